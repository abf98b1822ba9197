// Exchanges: list and declare; one exchange with its bindings, publishing, deletion.
import { api, get, seg } from '../api.js';
import { act, checkbox, field, fmtArgs, fmtCount, fmtRate, formValues, h, link, props, select, table } from '../dom.js';
import { featureBadges } from '../features.js';
import { bindForm, bindingsTable } from './bindings.js';
import { publishForm } from './publish-form.js';

export async function exchangesPage(ctx) {
  const holder = h('div');
  const vhosts = (await get('/vhosts?columns=name')).map((v) => v.name);
  const form = h(
    'form',
    { class: 'inline panel', id: 'add-exchange' },
    field('Virtual host', select('vhost', vhosts, ctx.vhost || vhosts[0])),
    field('Name', h('input', { name: 'name', required: true })),
    field('Type', select('type', ['direct', 'fanout', 'topic', 'headers', 'x-delayed-message'], 'direct')),
    checkbox('durable', 'Durable', true),
    checkbox('auto_delete', 'Auto-delete'),
    checkbox('internal', 'Internal'),
    field('Arguments (JSON)', h('input', { name: 'arguments', placeholder: '{"alternate-exchange": "ae"}' })),
    h('button', { type: 'submit' }, 'Add exchange'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act(`Exchange ${v.name} added`, async () => {
      await api('PUT', `/exchanges/${seg(v.vhost)}/${seg(v.name)}`, {
        type: v.type,
        durable: v.durable,
        auto_delete: v.auto_delete,
        internal: v.internal,
        arguments: v.arguments ? JSON.parse(v.arguments) : {},
      });
      form.elements.name.value = '';
      await refresh();
    });
  });
  ctx.main.append(h('h1', {}, 'Exchanges'), holder, h('h2', {}, 'Add an exchange'), form);
  async function refresh() {
    const list = await get(ctx.vhost ? `/exchanges/${seg(ctx.vhost)}` : '/exchanges');
    holder.replaceChildren(
      table(
        [
          ['Virtual host', (x) => x.vhost],
          ['Name', (x) => link(x.name === '' ? '(AMQP default)' : x.name, 'exchanges', x.vhost, x.name === '' ? 'amq.default' : x.name)],
          ['Type', (x) => x.type],
          ['Features', (x) => featureBadges(x)],
          ['Message rate in', (x) => fmtRate(x.message_stats?.publish_in_details?.rate), { num: true }],
          ['Message rate out', (x) => fmtRate(x.message_stats?.publish_out_details?.rate), { num: true }],
        ],
        list,
        'No exchanges.',
        { id: 'exchanges-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

export async function exchangePage(ctx) {
  const { vhost, name } = ctx.params;
  const realName = name === 'amq.default' ? '' : name;
  const details = h('div', { class: 'panel' });
  const from = h('div');
  const to = h('div');
  const remove = h('button', { type: 'button', class: 'danger', id: 'delete-exchange' }, 'Delete this exchange');
  remove.addEventListener('click', () =>
    act(`Exchange ${name} deleted`, async () => {
      await api('DELETE', `/exchanges/${seg(vhost)}/${seg(name)}`);
      ctx.navigate('#/exchanges');
    }),
  );
  async function refresh() {
    const x = await get(`/exchanges/${seg(vhost)}/${seg(name)}`);
    details.replaceChildren(
      props([
        ['Virtual host', vhost],
        ['Type', x.type],
        ['Durable', String(x.durable)],
        ['Auto-delete', String(x.auto_delete)],
        ['Internal', String(x.internal)],
        ['Policy', x.policy ?? ''],
        ['Arguments', fmtArgs(x.arguments)],
        ['Publish in', h('span', { id: 'exchange-publish-in' }, fmtCount(x.message_stats, 'publish_in'))],
        ['Publish out', h('span', { id: 'exchange-publish-out' }, fmtCount(x.message_stats, 'publish_out'))],
      ]),
    );
    if (realName === '') return;
    from.replaceChildren(bindingsTable(vhost, await get(`/exchanges/${seg(vhost)}/${seg(name)}/bindings/source`), refresh, 'source-bindings'));
    to.replaceChildren(bindingsTable(vhost, await get(`/exchanges/${seg(vhost)}/${seg(name)}/bindings/destination`), refresh, 'destination-bindings'));
  }
  ctx.main.append(h('h1', {}, `Exchange ${realName === '' ? '(AMQP default)' : realName}`), details);
  if (realName !== '') {
    ctx.main.append(h('h2', {}, 'Bindings from this exchange'), from, bindForm(vhost, { kind: 'exchange', name: realName }, refresh), h('h2', {}, 'Bindings to this exchange'), to);
  }
  ctx.main.append(h('h2', {}, 'Publish a message'), publishForm(vhost, realName));
  if (realName !== '' && !realName.startsWith('amq.')) ctx.main.append(h('h2', {}, 'Delete'), remove);
  await refresh();
  return { refresh };
}
