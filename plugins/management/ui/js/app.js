// The management UI: log in, then pages by hash route (#/queues/%2F/orders …). Each page
// module builds its view into <main> and may return { refresh, stop }: refresh runs every
// few seconds while the page is shown, so lists and charts stay live.
import { ApiError, clearCredentials, get, hasCredentials, seg, setCredentials } from './api.js';
import { act, h } from './dom.js';
import * as overview from './pages/overview.js';
import * as connections from './pages/connections.js';
import * as exchanges from './pages/exchanges.js';
import * as queues from './pages/queues.js';
import * as admin from './pages/admin.js';
import * as kafka from './pages/kafka.js';

const REFRESH_MS = 5000;

const ROUTES = [
  { pattern: [], nav: 'overview', page: overview.overviewPage },
  { pattern: ['connections'], nav: 'connections', page: connections.connectionsPage },
  { pattern: ['connections', ':name'], nav: 'connections', page: connections.connectionPage },
  { pattern: ['channels'], nav: 'channels', page: connections.channelsPage },
  { pattern: ['exchanges'], nav: 'exchanges', page: exchanges.exchangesPage },
  { pattern: ['exchanges', ':vhost', ':name'], nav: 'exchanges', page: exchanges.exchangePage },
  { pattern: ['queues'], nav: 'queues', page: (ctx) => queues.queuesPage(ctx, 'queues') },
  { pattern: ['streams'], nav: 'streams', page: (ctx) => queues.queuesPage(ctx, 'streams') },
  { pattern: ['queues', ':vhost', ':name'], nav: 'queues', page: queues.queuePage },
  { pattern: ['kafka'], nav: 'kafka', page: kafka.kafkaPage },
  { pattern: ['admin'], nav: 'admin', page: (ctx) => admin.adminPage(ctx, 'users') },
  { pattern: ['admin', ':tab'], nav: 'admin', page: (ctx) => admin.adminPage(ctx, ctx.params.tab) },
];

const state = { whoami: null, current: null, timer: null, vhost: '' };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  return raw === '' ? [] : raw.split('/').map((s) => decodeURIComponent(s));
}

function match(segments) {
  for (const r of ROUTES) {
    if (r.pattern.length !== segments.length) continue;
    const params = {};
    if (r.pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segments[i]), true) : p === segments[i]))) return { route: r, params };
  }
  return null;
}

function stopCurrent() {
  clearInterval(state.timer);
  state.timer = null;
  state.current?.stop?.();
  state.current = null;
}

async function show() {
  stopCurrent();
  const main = document.getElementById('main');
  if (!hasCredentials()) return showLogin();
  if (!state.whoami) {
    try {
      state.whoami = await get('/whoami');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        clearCredentials();
        return showLogin(e.message);
      }
      throw e;
    }
    await startSession();
  }
  const found = match(parseHash());
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === found?.route.nav);
  main.replaceChildren();
  if (!found) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Overview')));
    return;
  }
  const ctx = { main, params: found.params, whoami: state.whoami, vhost: state.vhost, navigate: (hash) => (location.hash = hash), seg };
  try {
    state.current = (await found.route.page(ctx)) ?? null;
  } catch (e) {
    main.replaceChildren(h('h1', {}, 'Error'), h('p', { class: 'empty' }, e.message || String(e)));
    return;
  }
  if (state.current?.refresh) {
    state.timer = setInterval(() => {
      if (document.hidden) return;
      state.current?.refresh().catch(() => undefined);
    }, REFRESH_MS);
  }
}

async function startSession() {
  document.getElementById('nav').hidden = false;
  document.getElementById('session').hidden = false;
  document.getElementById('whoami').textContent = `${state.whoami.name} (${state.whoami.tags.join(', ') || 'no tags'})`;
  const filter = document.getElementById('vhost-filter');
  const vhosts = await get('/vhosts?columns=name');
  filter.replaceChildren(h('option', { value: '' }, 'All'), ...vhosts.map((v) => h('option', { value: v.name }, v.name)));
  filter.value = state.vhost;
  const o = await get('/overview');
  document.getElementById('version').textContent = o.product_version;
}

function showLogin(problem) {
  document.getElementById('nav').hidden = true;
  document.getElementById('session').hidden = true;
  const main = document.getElementById('main');
  const form = h(
    'form',
    { id: 'login-form' },
    h('label', {}, 'Username', h('input', { name: 'username', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password' })),
    h('button', { type: 'submit' }, 'Log in'),
    problem ? h('p', { class: 'empty', role: 'alert' }, problem) : null,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setCredentials(form.elements.username.value, form.elements.password.value);
    state.whoami = null;
    void act(null, show);
  });
  main.replaceChildren(h('div', { class: 'login panel' }, h('h1', {}, 'Warren management'), form));
}

document.getElementById('logout').addEventListener('click', () => {
  clearCredentials();
  state.whoami = null;
  stopCurrent();
  showLogin();
});

document.getElementById('vhost-filter').addEventListener('change', (ev) => {
  state.vhost = ev.target.value;
  void show();
});

window.addEventListener('hashchange', () => void show());
void show();
