// Administration: users and their permissions, vhosts, policies, definitions export/import.
import { api, get, seg } from '../api.js';
import { act, field, fmtArgs, fmtNumber, formValues, h, select, table } from '../dom.js';

const TABS = ['users', 'vhosts', 'policies', 'definitions'];

export async function adminPage(ctx, tab) {
  if (!TABS.includes(tab)) tab = 'users';
  ctx.main.append(
    h('h1', {}, 'Admin'),
    h('div', { class: 'tabs' }, TABS.map((t) => h('a', { href: `#/admin/${t}`, class: t === tab ? 'active' : undefined }, t[0].toUpperCase() + t.slice(1)))),
  );
  const body = h('div');
  ctx.main.append(body);
  const pages = { users: usersTab, vhosts: vhostsTab, policies: policiesTab, definitions: definitionsTab };
  return pages[tab](ctx, body);
}

const deleteButton = (label, what, f) => h('button', { type: 'button', class: 'secondary', onclick: () => act(what, f) }, label);

async function usersTab(ctx, body) {
  const list = h('div');
  const vhosts = (await get('/vhosts?columns=name')).map((v) => v.name);
  const addUser = h(
    'form',
    { class: 'inline panel', id: 'add-user' },
    field('Username', h('input', { name: 'name', required: true })),
    field('Password', h('input', { name: 'password', type: 'password' })),
    field('Tags', select('tags', ['', 'management', 'policymaker', 'monitoring', 'administrator'], 'management')),
    h('button', { type: 'submit' }, 'Add user'),
  );
  addUser.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(addUser);
    void act(`User ${v.name} added`, async () => {
      await api('PUT', `/users/${seg(v.name)}`, { password: v.password, tags: v.tags });
      addUser.reset();
      await refresh();
    });
  });
  const setPermissions = h(
    'form',
    { class: 'inline panel', id: 'set-permissions' },
    field('User', h('input', { name: 'user', required: true })),
    field('Virtual host', select('vhost', vhosts, vhosts[0])),
    field('Configure', h('input', { name: 'configure', value: '.*' })),
    field('Write', h('input', { name: 'write', value: '.*' })),
    field('Read', h('input', { name: 'read', value: '.*' })),
    h('button', { type: 'submit' }, 'Set permissions'),
  );
  setPermissions.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(setPermissions);
    void act(`Permissions of ${v.user} in ${v.vhost} set`, async () => {
      await api('PUT', `/permissions/${seg(v.vhost)}/${seg(v.user)}`, { configure: v.configure, write: v.write, read: v.read });
      await refresh();
    });
  });
  body.append(list, h('h2', {}, 'Add a user'), addUser, h('h2', {}, 'Permissions'), setPermissions);
  async function refresh() {
    const [users, permissions] = await Promise.all([get('/users'), get('/permissions')]);
    list.replaceChildren(
      table(
        [
          ['Name', (u) => u.name],
          ['Tags', (u) => u.tags.map((t) => h('span', { class: 'tag' }, t))],
          ['Can access', (u) => permissions.filter((p) => p.user === u.name).map((p) => h('span', { class: 'tag', title: `configure ${p.configure} · write ${p.write} · read ${p.read}` }, p.vhost))],
          ['', (u) => deleteButton('Delete', `User ${u.name} deleted`, async () => {
            await api('DELETE', `/users/${seg(u.name)}`);
            await refresh();
          })],
        ],
        users,
        'No users.',
        { id: 'users-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

async function vhostsTab(ctx, body) {
  const list = h('div');
  const form = h(
    'form',
    { class: 'inline panel', id: 'add-vhost' },
    field('Name', h('input', { name: 'name', required: true })),
    field('Description', h('input', { name: 'description' })),
    field('Tags (comma-separated)', h('input', { name: 'tags' })),
    h('button', { type: 'submit' }, 'Add virtual host'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act(`Virtual host ${v.name} added`, async () => {
      await api('PUT', `/vhosts/${seg(v.name)}`, { description: v.description, tags: v.tags });
      form.reset();
      await refresh();
    });
  });
  body.append(list, h('h2', {}, 'Add a virtual host'), form);
  async function refresh() {
    list.replaceChildren(
      table(
        [
          ['Name', (v) => v.name],
          ['Description', (v) => v.description],
          ['Tags', (v) => v.tags.map((t) => h('span', { class: 'tag' }, t))],
          ['Messages', (v) => fmtNumber(v.messages), { num: true }],
          ['', (v) => deleteButton('Delete', `Virtual host ${v.name} deleted`, async () => {
            await api('DELETE', `/vhosts/${seg(v.name)}`);
            await refresh();
          })],
        ],
        await get('/vhosts'),
        'No virtual hosts.',
        { id: 'vhosts-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

async function policiesTab(ctx, body) {
  const list = h('div');
  const vhosts = (await get('/vhosts?columns=name')).map((v) => v.name);
  const form = h(
    'form',
    { class: 'inline panel', id: 'add-policy' },
    field('Virtual host', select('vhost', vhosts, ctx.vhost || vhosts[0])),
    field('Name', h('input', { name: 'name', required: true })),
    field('Pattern', h('input', { name: 'pattern', required: true, placeholder: '^orders\\.' })),
    field('Apply to', select('apply-to', ['queues', 'classic_queues', 'streams', 'exchanges', 'all'], 'queues')),
    field('Priority', h('input', { name: 'priority', type: 'number', value: 0 })),
    field('Definition (JSON)', h('input', { name: 'definition', required: true, placeholder: '{"max-length": 1000}', size: 30 })),
    h('button', { type: 'submit' }, 'Add / update policy'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act(`Policy ${v.name} set`, async () => {
      await api('PUT', `/policies/${seg(v.vhost)}/${seg(v.name)}`, { pattern: v.pattern, 'apply-to': v['apply-to'], priority: Number(v.priority), definition: JSON.parse(v.definition) });
      await refresh();
    });
  });
  body.append(list, h('h2', {}, 'Add or update a policy'), h('p', { class: 'muted' }, 'A policy applies at once to the queues and exchanges it matches.'), form);
  async function refresh() {
    list.replaceChildren(
      table(
        [
          ['Virtual host', (p) => p.vhost],
          ['Name', (p) => p.name],
          ['Pattern', (p) => p.pattern],
          ['Apply to', (p) => p['apply-to']],
          ['Definition', (p) => fmtArgs(p.definition)],
          ['Priority', (p) => String(p.priority), { num: true }],
          ['', (p) => deleteButton('Delete', `Policy ${p.name} deleted`, async () => {
            await api('DELETE', `/policies/${seg(p.vhost)}/${seg(p.name)}`);
            await refresh();
          })],
        ],
        await get(ctx.vhost ? `/policies/${seg(ctx.vhost)}` : '/policies'),
        'No policies.',
        { id: 'policies-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

async function definitionsTab(ctx, body) {
  const exportButton = h('button', { type: 'button', id: 'export-definitions' }, 'Download definitions');
  exportButton.addEventListener('click', () => act(null, async () => {
    const defs = await get('/definitions');
    const url = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `warren-definitions-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }));
  const file = h('input', { type: 'file', name: 'file', accept: 'application/json,.json', required: true });
  const report = h('div');
  const form = h('form', { class: 'inline panel', id: 'import-definitions' }, field('Definitions file (RabbitMQ JSON)', file), h('button', { type: 'submit' }, 'Upload'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void act('Definitions imported', async () => {
      const r = await api('POST', '/definitions', JSON.parse(await file.files[0].text()));
      report.replaceChildren(
        h('p', {}, `Imported ${r.vhosts} vhosts, ${r.users} users, ${r.policies} policies, ${r.exchanges} exchanges, ${r.queues} queues, ${r.bindings} bindings.`),
        r.warnings.length === 0 ? '' : h('ul', {}, r.warnings.map((w) => h('li', {}, `Skipped: ${w}`))),
      );
    });
  });
  body.append(
    h('h2', {}, 'Export'),
    h('p', { class: 'muted' }, "Users, virtual hosts, permissions, policies, exchanges, queues and bindings, in RabbitMQ's definitions format."),
    exportButton,
    h('h2', {}, 'Import'),
    form,
    report,
  );
}
