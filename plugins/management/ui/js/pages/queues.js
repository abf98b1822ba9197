// Queues and streams: list and declare; one queue with its depths, rates, consumers and
// bindings, publishing to it, getting messages, purging and deleting.
import { api, get, seg } from '../api.js';
import { act, checkbox, field, fmtArgs, fmtBytes, fmtNumber, fmtRate, formValues, h, link, props, select, table } from '../dom.js';
import { featureBadges } from '../features.js';
import { bindForm, bindingsTable } from './bindings.js';
import { publishForm } from './publish-form.js';

/** `kind`: 'queues' lists every queue but streams; 'streams' only stream queues. */
export async function queuesPage(ctx, kind) {
  const streams = kind === 'streams';
  const holder = h('div');
  const vhosts = (await get('/vhosts?columns=name')).map((v) => v.name);
  const form = h(
    'form',
    { class: 'inline panel', id: 'add-queue' },
    field('Virtual host', select('vhost', vhosts, ctx.vhost || vhosts[0])),
    field('Type', select('type', streams ? ['stream'] : ['classic', 'quorum', 'stream'], streams ? 'stream' : 'classic')),
    field('Name', h('input', { name: 'name', required: true })),
    checkbox('durable', 'Durable', true),
    streams ? null : checkbox('auto_delete', 'Auto-delete'),
    field('Arguments (JSON)', h('input', { name: 'arguments', placeholder: streams ? '{"x-max-age": "7D"}' : '{"x-max-length": 1000}' })),
    h('button', { type: 'submit' }, streams ? 'Add stream' : 'Add queue'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act(`${streams ? 'Stream' : 'Queue'} ${v.name} added`, async () => {
      const args = v.arguments ? JSON.parse(v.arguments) : {};
      if (v.type !== 'classic') args['x-queue-type'] = v.type;
      await api('PUT', `/queues/${seg(v.vhost)}/${seg(v.name)}`, { durable: v.durable, auto_delete: !!v.auto_delete, arguments: args });
      form.elements.name.value = '';
      await refresh();
    });
  });
  ctx.main.append(h('h1', {}, streams ? 'Streams' : 'Queues'), holder, h('h2', {}, streams ? 'Add a stream' : 'Add a queue'), form);
  async function refresh() {
    const all = await get(ctx.vhost ? `/queues/${seg(ctx.vhost)}` : '/queues');
    const list = all.filter((q) => (q.type === 'stream') === streams);
    holder.replaceChildren(
      table(
        [
          ['Virtual host', (q) => q.vhost],
          ['Name', (q) => link(q.name, 'queues', q.vhost, q.name)],
          ['Type', (q) => q.type],
          ['Features', (q) => featureBadges(q)],
          ['Ready', (q) => fmtNumber(q.messages_ready), { num: true }],
          ['Unacked', (q) => fmtNumber(q.messages_unacknowledged), { num: true }],
          ['Total', (q) => fmtNumber(q.messages), { num: true }],
          ['Consumers', (q) => fmtNumber(q.consumers), { num: true }],
          ['In', (q) => fmtRate(q.message_stats.publish_details.rate), { num: true }],
          ['Out', (q) => fmtRate(q.message_stats.deliver_get_details.rate), { num: true }],
          ['Ack', (q) => fmtRate(q.message_stats.ack_details.rate), { num: true }],
        ],
        list,
        streams ? 'No streams.' : 'No queues.',
        { id: 'queues-table' },
      ),
    );
  }
  await refresh();
  return { refresh };
}

export async function queuePage(ctx) {
  const { vhost, name } = ctx.params;
  const base = `/queues/${seg(vhost)}/${seg(name)}`;
  const details = h('div', { class: 'panel', id: 'queue-details' });
  const consumers = h('div');
  const bindings = h('div');
  const got = h('div', { id: 'got-messages' });
  const getForm = h(
    'form',
    { class: 'inline panel', id: 'get-form' },
    field('Ack mode', select('ackmode', ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'], 'ack_requeue_true')),
    field('Encoding', select('encoding', ['auto', 'base64'], 'auto')),
    field('Messages', h('input', { name: 'count', type: 'number', min: 1, value: 1 })),
    h('button', { type: 'submit' }, 'Get messages'),
  );
  getForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(getForm);
    void act(null, async () => {
      const messages = await api('POST', `${base}/get`, { count: Number(v.count), ackmode: v.ackmode, encoding: v.encoding, truncate: 50000 });
      got.replaceChildren(
        messages.length === 0
          ? h('p', { class: 'empty' }, 'Queue is empty.')
          : h(
              'ol',
              {},
              messages.map((m) =>
                h(
                  'li',
                  { class: 'panel message' },
                  props([
                    ['Exchange', m.exchange === '' ? '(AMQP default)' : m.exchange],
                    ['Routing key', m.routing_key],
                    ['Redelivered', String(m.redelivered)],
                    ['Properties', JSON.stringify(m.properties)],
                    ['Payload', `${m.payload_bytes} bytes, encoding ${m.payload_encoding}`],
                  ]),
                  h('pre', { class: 'payload' }, m.payload),
                ),
              ),
            ),
      );
      await refresh();
    });
  });
  const purge = h('button', { type: 'button', class: 'secondary', id: 'purge-queue' }, 'Purge messages');
  purge.addEventListener('click', () => act('Queue purged', async () => {
    await api('DELETE', `${base}/contents`);
    await refresh();
  }));
  const remove = h('button', { type: 'button', class: 'danger', id: 'delete-queue' }, 'Delete this queue');
  remove.addEventListener('click', () => act(`Queue ${name} deleted`, async () => {
    await api('DELETE', base);
    ctx.navigate('#/queues');
  }));

  async function refresh() {
    const q = await get(base);
    const ms = q.message_stats;
    details.replaceChildren(
      h('div', { class: 'grid' },
        props([
          ['Virtual host', vhost],
          ['Type', q.type],
          ['Durable', String(q.durable)],
          ['Auto-delete', String(q.auto_delete)],
          ['Exclusive', String(q.exclusive)],
          ['Arguments', fmtArgs(q.arguments)],
          ['Policy', q.policy ?? ''],
          ['Effective policy', fmtArgs(q.effective_policy_definition)],
          // a quorum queue on one node: this node leads and is its only member
          ...(q.type === 'quorum'
            ? [['Leader', q.leader], ['Members', (q.members ?? []).join(', ')], ['Delivery limit', String(q.delivery_limit)], ['Dead-letters pending', fmtNumber(q.messages_dlx)]]
            : []),
        ]),
        props([
          ['Ready', fmtNumber(q.messages_ready)],
          ['Unacked', fmtNumber(q.messages_unacknowledged)],
          ['Total', h('span', { id: 'queue-total' }, fmtNumber(q.messages))],
          ['Ready bytes', fmtBytes(q.message_bytes_ready)],
          ['Paged out', fmtNumber(q.messages_paged_out)],
          ['Memory (estimate)', fmtBytes(q.memory)],
          ['Publish', `${fmtNumber(ms.publish)} (${fmtRate(ms.publish_details.rate)})`],
          ['Deliver / get', `${fmtNumber(ms.deliver_get)} (${fmtRate(ms.deliver_get_details.rate)})`],
          ['Ack', `${fmtNumber(ms.ack)} (${fmtRate(ms.ack_details.rate)})`],
          ...(q.stream
            ? [
                ['Offsets', `${fmtNumber(q.stream.first_offset)} … ${fmtNumber(q.stream.next_offset - 1)}`],
                ['On disk', `${fmtBytes(q.stream.disk_bytes)} in ${q.stream.segments} segments`],
              ]
            : []),
        ]),
      ),
    );
    consumers.replaceChildren(
      table(
        [
          ['Consumer tag', (c) => c.consumer_tag],
          ['Channel', (c) => c.channel_details.name],
          ['Ack required', (c) => String(c.ack_required)],
          ['Prefetch', (c) => fmtNumber(c.prefetch_count), { num: true }],
          ['Exclusive', (c) => String(c.exclusive)],
          ['Active', (c) => c.activity_status],
          ['Arguments', (c) => fmtArgs(c.arguments)],
        ],
        q.consumer_details,
        'No consumers.',
      ),
    );
    bindings.replaceChildren(bindingsTable(vhost, await get(`${base}/bindings`), refresh, 'queue-bindings'));
  }
  ctx.main.append(
    h('h1', {}, `Queue ${name}`),
    details,
    h('h2', {}, 'Consumers'),
    consumers,
    h('h2', {}, 'Bindings'),
    bindings,
    bindForm(vhost, { kind: 'queue', name }, refresh),
    h('h2', {}, 'Publish a message'),
    h('p', { class: 'muted' }, 'Published through the default exchange with the queue name as routing key.'),
    publishForm(vhost, '', name),
    h('h2', {}, 'Get messages'),
    h('p', { class: 'muted' }, 'Getting messages is destructive when the ack mode does not requeue; requeued messages come back redelivered.'),
    getForm,
    got,
    h('h2', {}, 'Purge and delete'),
    h('div', { class: 'toolbar' }, purge, remove),
  );
  await refresh();
  return { refresh };
}
