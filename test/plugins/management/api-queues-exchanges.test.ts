/**
 * The management API over real HTTP against a running Warren: queues (depths, rates,
 * consumers, memory, get, purge, delete), exchanges (declare, delete, publish), bindings,
 * and RabbitMQ's list parameters. Shapes follow RabbitMQ 3.10's responses.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, eventually, startManaged, type ManagedBroker } from './helpers.js';

let m: ManagedBroker;
beforeAll(async () => {
  m = await startManaged();
});
afterAll(async () => {
  await m?.stop();
});

describe('queues', () => {
  it('declare with PUT (201, then 204), read back with arguments, durable and type', async () => {
    const put = await m.api('PUT', '/api/queues/%2F/q.declared', { durable: true, arguments: { 'x-max-length': 10, 'x-dead-letter-exchange': 'dlx' } });
    expect(put.status).toBe(201);
    expect((await m.api('PUT', '/api/queues/%2F/q.declared', { durable: true, arguments: { 'x-max-length': 10, 'x-dead-letter-exchange': 'dlx' } })).status).toBe(204);
    const r = await m.api('GET', '/api/queues/%2F/q.declared');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'q.declared',
      vhost: '/',
      type: 'classic',
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: { 'x-max-length': 10, 'x-dead-letter-exchange': 'dlx' },
      messages: 0,
      messages_ready: 0,
      messages_unacknowledged: 0,
      consumers: 0,
      state: 'running',
      policy: null,
      consumer_details: [],
    });
    expect(typeof r.body.memory).toBe('number');
    expect(r.body.message_stats.publish_details).toEqual({ rate: expect.any(Number) });
  });

  it('reports a quorum queue as type quorum, led by this node, its only member (as RabbitMQ shows one)', async () => {
    expect((await m.api('PUT', '/api/queues/%2F/q.quorum', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 4 } })).status).toBe(201);
    const r = await m.api('GET', '/api/queues/%2F/q.quorum');
    const node = (r.body as { node: string }).node;
    expect(r.body).toMatchObject({ type: 'quorum', durable: true, leader: node, members: [node], online: [node], delivery_limit: 4, messages_dlx: 0 });
    // a management declare follows the same rules as AMQP's: no non-durable quorum queue
    const refused = await m.api('PUT', '/api/queues/%2F/q.quorum-transient', { durable: false, arguments: { 'x-queue-type': 'quorum' } });
    expect(refused.status).toBe(400);
    expect((refused.body as { reason: string }).reason).toMatch(/invalid property 'non-durable'/);
  });

  it('a redeclaration with other properties is 400 with the AMQP text; bad arguments too', async () => {
    await m.api('PUT', '/api/queues/%2F/q.inequivalent', { durable: true });
    const r = await m.api('PUT', '/api/queues/%2F/q.inequivalent', { durable: false });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'bad_request', reason: expect.stringMatching(/inequivalent arg 'durable' for queue 'q.inequivalent'/) });
    const bad = await m.api('PUT', '/api/queues/%2F/q.badargs', { arguments: { 'x-max-length': 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toMatch(/invalid arg 'x-max-length'/);
  });

  it('shows depths, consumers, unacked messages and publish/deliver/ack rates of a working queue', async () => {
    const c = await amqp.connect(m.amqpUrl);
    const ch = await c.createChannel();
    await ch.assertQueue('q.busy', { durable: false });
    for (let i = 0; i < 20; i++) ch.sendToQueue('q.busy', Buffer.from(`m${String(i).padStart(2, '0')}`));
    await ch.prefetch(5);
    const tags: amqp.ConsumeMessage[] = [];
    await ch.consume('q.busy', (msg) => msg && tags.push(msg), { consumerTag: 'busy-consumer' });
    await eventually(() => (tags.length === 5 ? true : undefined));
    const q = await eventually(async () => {
      const r = await m.api('GET', '/api/queues/%2F/q.busy');
      return r.body.message_stats.publish_details.rate > 0 || r.body.message_stats.publish > 0 ? r.body : undefined;
    });
    expect(q).toMatchObject({ messages: 20, messages_ready: 15, messages_unacknowledged: 5, consumers: 1 });
    expect(q.consumer_details).toEqual([
      expect.objectContaining({ consumer_tag: 'busy-consumer', ack_required: true, prefetch_count: 5, queue: { name: 'q.busy', vhost: '/' }, active: true }),
    ]);
    expect(q.memory).toBeGreaterThan(0);
    expect(q.message_bytes_ready).toBe(15 * 3);
    // under steady traffic (publish, deliver, ack), every rate shows
    await ch.cancel('busy-consumer');
    ch.nackAll(true);
    await ch.consume('q.busy', (msg) => msg && ch.ack(msg), { consumerTag: 'acking-consumer' });
    const traffic = setInterval(() => ch.sendToQueue('q.busy', Buffer.from('tick')), 5);
    try {
      const busy = await eventually(async () => {
        const s = (await m.api('GET', '/api/queues/%2F/q.busy')).body.message_stats;
        return s.publish_details.rate > 0 && s.deliver_get_details.rate > 0 && s.ack_details.rate > 0 && s.redeliver >= 5 ? s : undefined;
      });
      expect(busy.ack).toBeGreaterThan(0);
    } finally {
      clearInterval(traffic);
    }
    await c.close();
  });

  it('lists queues everywhere and per vhost, with columns, name filter, sorting and pages', async () => {
    for (const n of ['list.a', 'list.b', 'list.c']) await m.api('PUT', `/api/queues/%2F/${n}`, {});
    const all = await m.api('GET', '/api/queues');
    expect(all.body.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['list.a', 'list.b', 'list.c']));
    const cols = await m.api('GET', '/api/queues/%2F?columns=name,messages&name=list.&sort=name&sort_reverse=true');
    expect(cols.body).toEqual([
      { name: 'list.c', messages: 0 },
      { name: 'list.b', messages: 0 },
      { name: 'list.a', messages: 0 },
    ]);
    const page = await m.api('GET', '/api/queues/%2F?page=2&page_size=1&name=%5Elist%5C.&use_regex=true&sort=name&columns=name');
    expect(page.body).toMatchObject({ page: 2, page_size: 1, page_count: 3, filtered_count: 3, item_count: 1, items: [{ name: 'list.b' }] });
    expect((await m.api('GET', '/api/queues/%2F?page=9')).status).toBe(400);
    expect((await m.api('GET', '/api/queues/nowhere')).status).toBe(404);
  });

  it('get with ackmode requeue (messages come back redelivered), ack, reject; payload encodings', async () => {
    await m.api('PUT', '/api/queues/%2F/q.get', {});
    const c = await amqp.connect(m.amqpUrl);
    const ch = await c.createConfirmChannel();
    ch.sendToQueue('q.get', Buffer.from('hello'), { contentType: 'text/plain', headers: { k: 'v', n: 7 }, messageId: 'id-1', persistent: true });
    ch.sendToQueue('q.get', Buffer.from([0xff, 0xfe, 0x00]));
    ch.sendToQueue('q.get', Buffer.from('third'));
    await ch.waitForConfirms();
    await c.close();
    const peek = await m.api('POST', '/api/queues/%2F/q.get/get', { count: 2, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 50000 });
    expect(peek.status).toBe(200);
    expect(peek.body).toEqual([
      {
        payload_bytes: 5,
        redelivered: false,
        exchange: '',
        routing_key: 'q.get',
        message_count: 2,
        properties: { content_type: 'text/plain', headers: { k: 'v', n: 7 }, delivery_mode: 2, message_id: 'id-1' },
        payload: 'hello',
        payload_encoding: 'string',
      },
      expect.objectContaining({ payload: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), payload_encoding: 'base64', message_count: 1 }),
    ]);
    const again = await m.api('POST', '/api/queues/%2F/q.get/get', { count: 1, ackmode: 'ack_requeue_false', encoding: 'base64' });
    expect(again.body).toEqual([expect.objectContaining({ redelivered: true, payload: Buffer.from('hello').toString('base64'), payload_encoding: 'base64' })]);
    const truncated = await m.api('POST', '/api/queues/%2F/q.get/get', { count: 5, ackmode: 'reject_requeue_false', encoding: 'auto', truncate: 2 });
    expect(truncated.body.map((x: { payload: string; payload_bytes: number }) => [x.payload_bytes, x.payload])).toEqual([
      [3, Buffer.from([0xff, 0xfe]).toString('base64')],
      [5, 'th'],
    ]);
    expect((await m.api('GET', '/api/queues/%2F/q.get')).body.messages).toBe(0);
    expect((await m.api('POST', '/api/queues/%2F/q.get/get', { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' })).body).toEqual([]);
    expect((await m.api('POST', '/api/queues/%2F/q.get/get', { count: 1, ackmode: 'bogus' })).status).toBe(400);
    expect((await m.api('POST', '/api/queues/%2F/q.get/get', { count: 1 })).status).toBe(400);
  });

  it('purge (DELETE …/contents) and delete with if-empty / if-unused; 404 for a missing queue', async () => {
    await m.api('PUT', '/api/queues/%2F/q.purge', {});
    await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 'q.purge', payload: 'x', payload_encoding: 'string' });
    expect((await m.api('DELETE', '/api/queues/%2F/q.purge?if-empty=true')).status).toBe(400);
    expect((await m.api('DELETE', '/api/queues/%2F/q.purge/contents')).status).toBe(204);
    expect((await m.api('GET', '/api/queues/%2F/q.purge')).body.messages).toBe(0);
    expect((await m.api('DELETE', '/api/queues/%2F/q.purge?if-empty=true')).status).toBe(204);
    expect((await m.api('GET', '/api/queues/%2F/q.purge')).status).toBe(404);
    expect((await m.api('DELETE', '/api/queues/%2F/q.purge')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
  });
});

describe('stream queues', () => {
  it('are queues of type stream, with their log offsets and size; get and purge are refused as RabbitMQ does', async () => {
    expect((await m.api('PUT', '/api/queues/%2F/s.events', { durable: true, arguments: { 'x-queue-type': 'stream' } })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 's.events', payload: `e${i}`, payload_encoding: 'string' });
    }
    const q = (await m.api('GET', '/api/queues/%2F/s.events')).body;
    expect(q).toMatchObject({ type: 'stream', durable: true, messages: 3, stream: { first_offset: 0, next_offset: 3, committed_offset: 3 } });
    expect(q.stream.disk_bytes).toBeGreaterThan(0);
    const got = await m.api('POST', '/api/queues/%2F/s.events/get', { count: 1, ackmode: 'ack_requeue_true' });
    expect(got.status).toBe(400);
    expect(got.body.reason).toMatch(/^NOT_IMPLEMENTED - basic.get not supported by stream queues/);
    expect((await m.api('DELETE', '/api/queues/%2F/s.events/contents')).body.reason).toMatch(/queue.purge not supported/);
    expect((await m.api('DELETE', '/api/queues/%2F/s.events')).status).toBe(204);
  });
});

describe('exchanges', () => {
  it('lists the standard exchanges, declares, reads and deletes one', async () => {
    const list = await m.api('GET', '/api/exchanges/%2F');
    expect(list.body.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']));
    expect((await m.api('PUT', '/api/exchanges/%2F/x.orders', { type: 'topic', durable: true, arguments: { 'alternate-exchange': 'x.ae' } })).status).toBe(201);
    expect((await m.api('PUT', '/api/exchanges/%2F/x.orders', { type: 'topic', durable: true, arguments: { 'alternate-exchange': 'x.ae' } })).status).toBe(204);
    const x = await m.api('GET', '/api/exchanges/%2F/x.orders');
    expect(x.body).toEqual({ name: 'x.orders', vhost: '/', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: { 'alternate-exchange': 'x.ae' }, policy: null,
      message_stats: { publish_in: 0, publish_in_details: { rate: 0 }, publish_out: 0, publish_out_details: { rate: 0 } },
    });
    expect((await m.api('GET', '/api/exchanges/%2F/amq.default')).body).toMatchObject({ name: '', type: 'direct' });
    expect((await m.api('PUT', '/api/exchanges/%2F/x.bogus', { type: 'bogus' })).status).toBe(400);
    expect((await m.api('PUT', '/api/exchanges/%2F/x.notype', {})).body).toEqual({ error: 'bad_request', reason: '[{key_missing,type}]' });
    expect((await m.api('PUT', '/api/exchanges/%2F/amq.mine', { type: 'direct' })).status).toBe(401); // ACCESS_REFUSED: reserved prefix
    expect((await m.api('DELETE', '/api/exchanges/%2F/x.orders')).status).toBe(204);
    expect((await m.api('GET', '/api/exchanges/%2F/x.orders')).status).toBe(404);
    expect((await m.api('DELETE', '/api/exchanges/%2F/x.orders')).status).toBe(404);
  });

  it('publishes through an exchange: routed true/false, properties and base64 payloads arrive', async () => {
    await m.api('PUT', '/api/exchanges/%2F/x.pub', { type: 'direct' });
    await m.api('PUT', '/api/queues/%2F/q.pub', {});
    await m.api('POST', '/api/bindings/%2F/e/x.pub/q/q.pub', { routing_key: 'rk' });
    const routed = await m.api('POST', '/api/exchanges/%2F/x.pub/publish', {
      properties: { delivery_mode: 2, headers: { a: 1 }, correlation_id: 'c1', priority: 3 },
      routing_key: 'rk',
      payload: Buffer.from('bytes\u0000here').toString('base64'),
      payload_encoding: 'base64',
    });
    expect(routed.body).toEqual({ routed: true });
    const unrouted = await m.api('POST', '/api/exchanges/%2F/x.pub/publish', { properties: {}, routing_key: 'nowhere', payload: 'x', payload_encoding: 'string' });
    expect(unrouted.body).toEqual({ routed: false });
    const c = await amqp.connect(m.amqpUrl);
    const ch = await c.createChannel();
    const got = await ch.get('q.pub', { noAck: true });
    expect(got && got.content.toString()).toBe('bytes\u0000here');
    expect(got && got.properties).toMatchObject({ deliveryMode: 2, headers: { a: 1 }, correlationId: 'c1', priority: 3 });
    await c.close();
    const missing = await m.api('POST', '/api/exchanges/%2F/x.pub/publish', { properties: {}, routing_key: 'rk' });
    expect(missing.body).toEqual({ error: 'bad_request', reason: '[{key_missing,payload},{key_missing,payload_encoding}]' });
    expect((await m.api('POST', '/api/exchanges/%2F/x.pub/publish', { properties: { expiration: 'soon' }, routing_key: 'rk', payload: '', payload_encoding: 'string' })).status).toBe(400);
    expect((await m.api('POST', '/api/exchanges/%2F/x.nope/publish', { properties: {}, routing_key: 'rk', payload: '', payload_encoding: 'string' })).status).toBe(404);
  });
});

describe('bindings', () => {
  it('creates (201 + Location), lists, reads and deletes queue and exchange bindings by properties key', async () => {
    await m.api('PUT', '/api/exchanges/%2F/b.src', { type: 'topic' });
    await m.api('PUT', '/api/exchanges/%2F/b.dst', { type: 'fanout' });
    await m.api('PUT', '/api/queues/%2F/b.q', {});
    const made = await m.api('POST', '/api/bindings/%2F/e/b.src/q/b.q', { routing_key: 'order.*.urgent', arguments: { 'x-note': 'urgent' } });
    expect(made.status).toBe(201);
    const location = made.headers.get('location')!;
    expect(location.startsWith('b.q/order.%2A.urgent~')).toBe(true);
    expect((await m.api('POST', '/api/bindings/%2F/e/b.src/e/b.dst', { routing_key: 'audit.#' })).headers.get('location')).toBe('b.dst/audit.%23');
    const between = await m.api('GET', '/api/bindings/%2F/e/b.src/q/b.q');
    expect(between.body).toEqual([
      { source: 'b.src', vhost: '/', destination: 'b.q', destination_type: 'queue', routing_key: 'order.*.urgent', arguments: { 'x-note': 'urgent' }, properties_key: location.slice(4) },
    ]);
    const ofQueue = await m.api('GET', '/api/queues/%2F/b.q/bindings');
    expect(ofQueue.body.map((b: { source: string }) => b.source)).toEqual(['', 'b.src']);
    const all = await m.api('GET', '/api/bindings/%2F');
    expect(all.body).toEqual(expect.arrayContaining([expect.objectContaining({ source: 'b.src', destination: 'b.dst', destination_type: 'exchange', routing_key: 'audit.#' })]));
    expect((await m.api('GET', '/api/exchanges/%2F/b.src/bindings/source')).body).toHaveLength(2);
    expect((await m.api('GET', '/api/exchanges/%2F/b.dst/bindings/destination')).body).toHaveLength(1);
    expect((await m.api('GET', `/api/bindings/%2F/e/b.src/q/b.q/${enc(location.slice(4))}`)).status).toBe(200);
    expect((await m.api('DELETE', `/api/bindings/%2F/e/b.src/q/b.q/${enc(location.slice(4))}`)).status).toBe(204);
    expect((await m.api('DELETE', `/api/bindings/%2F/e/b.src/q/b.q/${enc(location.slice(4))}`)).status).toBe(404);
    expect((await m.api('DELETE', '/api/bindings/%2F/e/b.src/e/b.dst/audit.%2523')).status).toBe(204);
    expect((await m.api('GET', '/api/bindings/%2F/e/b.src/q/b.q')).body).toEqual([]);
    expect((await m.api('POST', '/api/bindings/%2F/e/b.src/q/b.missing', {})).status).toBe(404);
    expect((await m.api('POST', '/api/bindings/%2F/e/amq.default/q/b.q', {})).status).toBe(401); // the default exchange takes no bindings (403)
  });

  it('an empty routing key without arguments has the properties key ~', async () => {
    await m.api('PUT', '/api/queues/%2F/b.empty', {});
    const made = await m.api('POST', '/api/bindings/%2F/e/amq.fanout/q/b.empty', {});
    expect(made.headers.get('location')).toBe('b.empty/~');
    expect((await m.api('DELETE', '/api/bindings/%2F/e/amq.fanout/q/b.empty/~')).status).toBe(204);
  });
});

describe('HTTP behaviour', () => {
  it('unknown endpoints are 404, wrong methods 405 with Allow, malformed JSON 400, unknown vhosts 404', async () => {
    expect((await m.api('GET', '/api/nosuchendpoint')).status).toBe(404);
    const r = await m.api('PATCH', '/api/overview');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
    const bad = await m.api('PUT', '/api/queues/%2F/q.json', '{"durable":');
    expect(bad.body).toEqual({ error: 'bad_request', reason: 'failed_to_parse_json' });
    expect((await m.api('PUT', '/api/queues/no-such-vhost/q', {})).status).toBe(404);
    expect((await m.api('GET', '/api/queues/%ZZ')).status).toBe(400);
  });

  it('a trailing slash names the same resource', async () => {
    expect((await m.api('GET', '/api/vhosts/')).status).toBe(200);
  });
});
