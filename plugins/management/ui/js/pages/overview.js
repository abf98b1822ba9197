// Overview: totals, live charts of message rates and queued messages, the node, alarms.
import { get } from '../api.js';
import { fmtBytes, fmtNumber, h, props, table } from '../dom.js';
import { LineChart } from '../chart.js';

export async function overviewPage(ctx) {
  const rates = new LineChart('Message rates', ['publish', 'deliver / get', 'ack'], '/s');
  const depths = new LineChart('Queued messages', ['ready', 'unacked']);
  const totals = h('div', { class: 'totals', id: 'totals' });
  const node = h('div', { class: 'panel', id: 'node' });
  const protocols = h('div', { class: 'panel', id: 'protocols' });
  ctx.main.append(
    h('h1', {}, 'Overview'),
    totals,
    h('div', { class: 'grid' }, h('div', { class: 'panel' }, rates.element), h('div', { class: 'panel' }, depths.element)),
    h('div', { class: 'grid' }, node, protocols),
  );

  let first = true;
  async function refresh() {
    const o = await get(`/overview${first ? '?history=true' : ''}`);
    if (first) {
      for (const p of o.history ?? []) {
        rates.add(p.at, [p.publish_rate, p.deliver_get_rate, p.ack_rate]);
        depths.add(p.at, [p.messages_ready, p.messages_unacknowledged]);
      }
      first = false;
    }
    const ms = o.message_stats;
    const q = o.queue_totals;
    rates.add(Date.now(), [ms.publish_details.rate, ms.deliver_get_details.rate, ms.ack_details.rate]);
    depths.add(Date.now(), [q.messages_ready, q.messages_unacknowledged]);
    const t = o.object_totals;
    totals.replaceChildren(
      ...[
        ['Connections', t.connections],
        ['Channels', t.channels],
        ['Exchanges', t.exchanges],
        ['Queues', t.queues],
        ['Consumers', t.consumers],
        ['Messages', q.messages],
      ].map(([label, n]) => h('div', { class: 'total' }, h('div', { class: 'n' }, fmtNumber(n)), h('div', { class: 'label' }, label))),
    );
    const alarms = o.alarms.length === 0 ? 'none' : o.alarms.join(', ');
    const nodeInfo = ctx.whoami.tags.some((t) => t === 'administrator' || t === 'monitoring') ? (await get('/nodes'))[0] : null;
    node.replaceChildren(
      h('h2', {}, 'Node'),
      props([
        ['Name', o.node],
        ['Version', `${o.product_name} ${o.product_version}`],
        ['Uptime', `${Math.round(o.node_uptime_ms / 60000)} min`],
        ['Alarms', alarms],
        ...(nodeInfo
          ? [
              ['Memory', `${fmtBytes(nodeInfo.mem_used)} of ${fmtBytes(nodeInfo.mem_limit)}`],
              ['Disk free', `${fmtBytes(nodeInfo.disk_free)} (limit ${fmtBytes(nodeInfo.disk_free_limit)})`],
              ['Event-loop lag (p99)', `${(nodeInfo.event_loop_lag_p99_seconds * 1000).toFixed(1)} ms`],
            ]
          : []),
      ]),
    );
    const byProtocol = Object.entries(o.connections_by_protocol);
    protocols.replaceChildren(
      h('h2', {}, 'Connections by protocol'),
      table([['Protocol', ([p]) => p], ['Connections', ([, n]) => fmtNumber(n), { num: true }]], byProtocol, 'No client connections.'),
      h('h2', {}, 'Listening ports'),
      table([['Protocol', (l) => l.protocol], ['Bound to', (l) => l.ip_address], ['Port', (l) => String(l.port), { num: true }]], o.listeners, 'No listeners.', { id: 'listeners-table' }),
    );
  }
  await refresh();
  return { refresh };
}
