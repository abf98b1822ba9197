// Kafka: the Kafka plugin's topics (each partition is a stream queue, linked) and consumer
// groups with their members, assigned partitions, committed offsets and lag.
import { get } from '../api.js';
import { fmtNumber, h, link, table } from '../dom.js';

const assigned = (m) => m.assignments.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; ');
const orDash = (n) => (n === null ? '–' : fmtNumber(n));

function topicTable(topics) {
  const rows = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t, p })));
  return table(
    [
      ['Topic', (r) => (r.p.partition === 0 ? r.topic.name : '')],
      ['Partition', (r) => String(r.p.partition), { num: true }],
      ['Stream queue', (r) => link(r.p.queue, 'queues', r.topic.vhost, r.p.queue)],
      ['Messages', (r) => fmtNumber(r.p.messages), { num: true }],
      ['First offset', (r) => fmtNumber(r.p.first_offset), { num: true }],
      ['Last offset', (r) => fmtNumber(r.p.last_offset), { num: true }],
    ],
    rows,
    'No Kafka topics (or the Kafka plugin is off).',
    { id: 'kafka-topics-table' },
  );
}

function groupPanel(g) {
  return h(
    'div',
    { class: 'panel kafka-group', 'data-group': g.group_id },
    h('h3', {}, `${g.group_id} `, h('span', { class: 'tag' }, g.state), ` generation ${g.generation}`, g.protocol ? ` · ${g.protocol_type}/${g.protocol}` : '', ` · lag ${fmtNumber(g.lag)}`),
    table(
      [
        ['Member', (m) => m.member_id],
        ['Client id', (m) => m.client_id],
        ['Host', (m) => m.client_host],
        ['Assigned partitions', assigned],
      ],
      g.members,
      'No members.',
      { class: 'kafka-members' },
    ),
    table(
      [
        ['Topic', (o) => o.topic],
        ['Partition', (o) => String(o.partition), { num: true }],
        ['Committed offset', (o) => orDash(o.committed_offset), { num: true }],
        ['Lag', (o) => orDash(o.lag), { num: true }],
      ],
      g.offsets,
      'No committed offsets.',
      { class: 'kafka-offsets' },
    ),
  );
}

export async function kafkaPage(ctx) {
  const topics = h('div');
  const groups = h('div', { id: 'kafka-groups' });
  ctx.main.append(h('h1', {}, 'Kafka'), h('h2', {}, 'Topics'), topics, h('h2', {}, 'Consumer groups'), groups);
  async function refresh() {
    const [t, g] = await Promise.all([get('/kafka/topics'), get('/kafka/groups')]);
    topics.replaceChildren(topicTable(t));
    groups.replaceChildren(g.length === 0 ? h('p', { class: 'empty' }, 'No consumer groups.') : h('div', {}, g.map(groupPanel)));
  }
  await refresh();
  return { refresh };
}
