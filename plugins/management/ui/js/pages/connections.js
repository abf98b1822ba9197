// Connections (every protocol) with drill-down and closing, and channels.
import { api, get, seg } from '../api.js';
import { act, fmtByteRate, fmtBytes, fmtNumber, fmtRate, h, link, props, table } from '../dom.js';

const vhostPath = (base, vhost) => (vhost ? `/vhosts/${seg(vhost)}/${base}` : `/${base}`);

export async function connectionsPage(ctx) {
  const holder = h('div');
  ctx.main.append(h('h1', {}, 'Connections'), holder);
  async function refresh() {
    const list = await get(vhostPath('connections', ctx.vhost));
    holder.replaceChildren(
      table(
        [
          ['Name', (c) => link(c.name, 'connections', c.name)],
          ['Protocol', (c) => h('span', { class: 'tag proto' }, c.protocol)],
          ['Client', (c) => c.user_provided_name ?? ''],
          ['User', (c) => c.user],
          ['Virtual host', (c) => c.vhost],
          ['Channels', (c) => fmtNumber(c.channels), { num: true }],
          ['From client', (c) => fmtByteRate(c.recv_oct_details?.rate), { num: true }],
          ['To client', (c) => fmtByteRate(c.send_oct_details?.rate), { num: true }],
          ['Connected', (c) => new Date(c.connected_at).toLocaleTimeString()],
        ],
        list,
        'No client connections.',
        { id: 'connections-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

export async function connectionPage(ctx) {
  const name = ctx.params.name;
  const details = h('div', { class: 'panel' });
  const channels = h('div');
  const reason = h('input', { name: 'reason', value: 'Closed via management plugin', size: 40 });
  const close = h('form', { class: 'inline panel', id: 'close-connection' }, h('label', {}, 'Reason told to the client', reason), h('button', { type: 'submit', class: 'danger' }, 'Close this connection'));
  close.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void act('Connection closed', async () => {
      await api('DELETE', `/connections/${seg(name)}?reason=${encodeURIComponent(reason.value)}`);
      ctx.navigate('#/connections');
    });
  });
  ctx.main.append(h('h1', {}, `Connection ${name}`), details, h('h2', {}, 'Channels'), channels, close);
  async function refresh() {
    const c = await get(`/connections/${seg(name)}`);
    details.replaceChildren(
      props([
        ['Protocol', c.protocol],
        ['User', c.user],
        ['Virtual host', c.vhost],
        ['Peer', `${c.peer_host}:${c.peer_port}`],
        ['Client name', c.user_provided_name ?? ''],
        ['Connected at', new Date(c.connected_at).toLocaleString()],
        ['Client properties', JSON.stringify(c.client_properties)],
        ['Received', h('span', { id: 'connection-received' }, c.recv_oct === undefined ? '' : `${fmtBytes(c.recv_oct)} in ${fmtNumber(c.recv_cnt)} reads (${fmtByteRate(c.recv_oct_details.rate)})`)],
        ['Sent', h('span', { id: 'connection-sent' }, c.send_oct === undefined ? '' : `${fmtBytes(c.send_oct)} in ${fmtNumber(c.send_cnt)} writes (${fmtByteRate(c.send_oct_details.rate)})`)],
      ]),
    );
    channels.replaceChildren(channelTable(await get(`/connections/${seg(name)}/channels`)));
  }
  await refresh();
  return { refresh };
}

function channelTable(list) {
  return table(
    [
      ['Channel', (c) => c.name],
      ['User', (c) => c.user],
      ['Virtual host', (c) => c.vhost],
      ['Consumers', (c) => fmtNumber(c.consumer_count), { num: true }],
      ['Unacked', (c) => fmtNumber(c.messages_unacknowledged), { num: true }],
      ['Prefetch', (c) => (c.global_prefetch_count ? `${c.prefetch_count} / global ${c.global_prefetch_count}` : fmtNumber(c.prefetch_count)), { num: true }],
      // RabbitMQ's channel list: message rates
      ...[
        ['Publish', 'publish'],
        ['Confirm', 'confirm'],
        ['Unroutable (drop)', 'drop_unroutable'],
        ['Deliver / get', 'deliver_get'],
        ['Redelivered', 'redeliver'],
        ['Ack', 'ack'],
      ].map(([title, key]) => [title, (c) => fmtRate(c.message_stats?.[`${key}_details`]?.rate), { num: true }]),
    ],
    list,
    'No channels.',
    { id: 'channels-table' },
  );
}

export async function channelsPage(ctx) {
  const holder = h('div');
  ctx.main.append(h('h1', {}, 'Channels'), holder);
  async function refresh() {
    holder.replaceChildren(channelTable(await get(vhostPath('channels', ctx.vhost))));
  }
  await refresh();
  return { refresh };
}
