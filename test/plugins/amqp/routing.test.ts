/**
 * Routing through each exchange type as RabbitMQ does it: the default exchange, the
 * predeclared amq.* exchanges, topic wildcards, headers matching, direct fan-in/fan-out,
 * and basic.return for mandatory messages nobody can take (AMQP 0-9-1 §3.1.3).
 */
import type { Channel, ConfirmChannel, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodies, drain, expectCode, publishConfirmed, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

/** For each binding pattern, one exclusive queue bound to `exchange` with it. */
async function queuePerPattern(ch: Channel, exchange: string, patterns: readonly string[]): Promise<Map<string, string>> {
  const queues = new Map<string, string>();
  for (const pattern of patterns) {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, pattern);
    queues.set(pattern, queue);
  }
  return queues;
}

/** Publishes each routing key (as its own body) and returns, per pattern, the keys that reached its queue. */
async function routeKeys(
  ch: Channel,
  pub: ConfirmChannel,
  exchange: string,
  queues: Map<string, string>,
  keys: readonly string[],
): Promise<Record<string, string[]>> {
  for (const key of keys) pub.publish(exchange, key, Buffer.from(key));
  await pub.waitForConfirms();
  const out: Record<string, string[]> = {};
  for (const [pattern, queue] of queues) out[pattern] = bodies(await drain(ch, queue));
  return out;
}

describe('default exchange', () => {
  it('routes by queue name, through sendToQueue and an explicit publish to ""', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const pub = await clients.confirmChannel();
    pub.sendToQueue(queue, Buffer.from('via sendToQueue'));
    await publishConfirmed(pub, '', queue, ['via publish']);
    const got = await drain(ch, queue);
    expect(bodies(got)).toEqual(['via sendToQueue', 'via publish']);
    expect(got[0]!.fields).toMatchObject({ exchange: '', routingKey: queue });
  });

  it('refuses declaring (even passively) or deleting it with 403 ACCESS_REFUSED, as RabbitMQ does', async () => {
    const { conn, ch } = await clients.open();
    await expectCode(ch.checkExchange(''), 403);
    await expectCode((await clients.channel(conn)).deleteExchange(''), 403);
  });
});

describe('predeclared exchanges', () => {
  it.each(['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match'])('%s exists', async (name) => {
    const { ch } = await clients.open();
    await ch.checkExchange(name);
  });

  it.each([
    ['amq.direct', 'direct'],
    ['amq.fanout', 'fanout'],
    ['amq.topic', 'topic'],
    ['amq.headers', 'headers'],
    ['amq.match', 'headers'],
  ])('%s is a durable %s exchange (an equivalent redeclaration is accepted)', async (name, type) => {
    const { ch } = await clients.open();
    await ch.assertExchange(name, type, { durable: true, autoDelete: false, internal: false });
  });
});

describe('topic exchange', () => {
  it('matches * to exactly one word and # to zero or more words', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-topic');
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    const patterns = ['a.*', 'a.#', '#', '*', 'a.#.b', '*.b.*', '#.c', 'a.b.c', '*.*'];
    const queues = await queuePerPattern(ch, exchange, patterns);
    const pub = await clients.confirmChannel();
    const keys = ['a', 'a.b', 'a.b.c', 'a.x.b', 'a.x.y.b', 'x.b.y', 'c', 'x.y.c', 'b'];
    expect(await routeKeys(ch, pub, exchange, queues, keys)).toEqual({
      'a.*': ['a.b'],
      'a.#': ['a', 'a.b', 'a.b.c', 'a.x.b', 'a.x.y.b'],
      '#': keys,
      '*': ['a', 'c', 'b'],
      'a.#.b': ['a.b', 'a.x.b', 'a.x.y.b'],
      '*.b.*': ['a.b.c', 'x.b.y'],
      '#.c': ['a.b.c', 'c', 'x.y.c'],
      'a.b.c': ['a.b.c'],
      '*.*': ['a.b'],
    });
    await ch.deleteExchange(exchange);
  });

  it('treats empty words as words: a..b, leading and trailing dots, and the empty key', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-topic-empty');
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    const patterns = ['a.*.b', 'a..b', '*.a', 'a.*', '#', '*', 'a.#'];
    const queues = await queuePerPattern(ch, exchange, patterns);
    const pub = await clients.confirmChannel();
    const keys = ['a..b', '.a', 'a.', '', 'a.x.b'];
    expect(await routeKeys(ch, pub, exchange, queues, keys)).toEqual({
      'a.*.b': ['a..b', 'a.x.b'],
      'a..b': ['a..b'],
      '*.a': ['.a'],
      'a.*': ['a.'],
      '#': keys,
      '*': [],
      'a.#': ['a..b', 'a.', 'a.x.b'],
    });
    await ch.deleteExchange(exchange);
  });

  it('matches words exactly (no prefix or substring matches) and is case-sensitive', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-topic-exact');
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    const queues = await queuePerPattern(ch, exchange, ['stock.usd', 'stock.*']);
    const pub = await clients.confirmChannel();
    const keys = ['stock.usd', 'stock.usdx', 'stocks.usd', 'Stock.usd', 'stock.USD'];
    expect(await routeKeys(ch, pub, exchange, queues, keys)).toEqual({
      'stock.usd': ['stock.usd'],
      'stock.*': ['stock.usd', 'stock.usdx', 'stock.USD'],
    });
    await ch.deleteExchange(exchange);
  });

  it('routes through amq.topic', async () => {
    const { ch } = await clients.open();
    const word = uniqueName('w').replace(/\./g, '_');
    const queues = await queuePerPattern(ch, 'amq.topic', [`${word}.#`]);
    const pub = await clients.confirmChannel();
    expect(await routeKeys(ch, pub, 'amq.topic', queues, [`${word}.x.y`, `other.${word}`])).toEqual({
      [`${word}.#`]: [`${word}.x.y`],
    });
  });
});

describe('headers exchange', () => {
  async function headersSetup(exchange: string, bindings: Record<string, Record<string, unknown>>) {
    const { ch } = await clients.open();
    const queues = new Map<string, string>();
    for (const [label, args] of Object.entries(bindings)) {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, exchange, '', args);
      queues.set(label, queue);
    }
    const pub = await clients.confirmChannel();
    return {
      async route(messages: Record<string, Record<string, unknown>>): Promise<Record<string, string[]>> {
        for (const [label, headers] of Object.entries(messages)) pub.publish(exchange, '', Buffer.from(label), { headers });
        await pub.waitForConfirms();
        const out: Record<string, string[]> = {};
        for (const [label, queue] of queues) out[label] = bodies(await drain(ch, queue)).sort();
        return out;
      },
    };
  }

  it('matches x-match all (the default) and any', async () => {
    const exchange = uniqueName('x-headers');
    const { ch } = await clients.open();
    await ch.assertExchange(exchange, 'headers', { durable: false, autoDelete: true });
    const { route } = await headersSetup(exchange, {
      all: { 'x-match': 'all', format: 'pdf', type: 'report' },
      default: { format: 'pdf', type: 'report' },
      any: { 'x-match': 'any', format: 'pdf', type: 'report' },
    });
    expect(
      await route({
        both: { format: 'pdf', type: 'report' },
        bothPlusExtra: { format: 'pdf', type: 'report', lang: 'en' },
        formatOnly: { format: 'pdf' },
        wrongValue: { format: 'zip', type: 'log' },
        none: {},
      }),
    ).toEqual({
      all: ['both', 'bothPlusExtra'],
      default: ['both', 'bothPlusExtra'],
      any: ['both', 'bothPlusExtra', 'formatOnly'],
    });
  });

  it('ignores binding arguments starting with x- for all and any', async () => {
    const exchange = uniqueName('x-headers-x');
    const { ch } = await clients.open();
    await ch.assertExchange(exchange, 'headers', { durable: false, autoDelete: true });
    const { route } = await headersSetup(exchange, {
      allWithX: { 'x-match': 'all', 'x-tenant': 'acme', format: 'pdf' },
      anyOnlyX: { 'x-match': 'any', 'x-tenant': 'acme', 'x-other': 'v' },
    });
    expect(
      await route({
        formatNoTenant: { format: 'pdf' },
        tenantOnly: { 'x-tenant': 'acme' },
        both: { format: 'pdf', 'x-tenant': 'acme' },
      }),
    ).toEqual({
      allWithX: ['both', 'formatNoTenant'],
      anyOnlyX: [],
    });
  });

  it('routes through amq.match', async () => {
    const { ch } = await clients.open();
    const tag = uniqueName('tag');
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.match', '', { 'x-match': 'all', tag });
    const pub = await clients.confirmChannel();
    pub.publish('amq.match', '', Buffer.from('hit'), { headers: { tag } });
    pub.publish('amq.match', '', Buffer.from('miss'), { headers: { tag: 'other' } });
    await pub.waitForConfirms();
    expect(bodies(await drain(ch, queue))).toEqual(['hit']);
  });
});

describe('direct and fanout exchanges', () => {
  it('routes to every queue bound with the key, a queue bound with several keys gets each, and one copy per queue', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-direct');
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    const { queue: q1 } = await ch.assertQueue('', { exclusive: true });
    const { queue: q2 } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q1, exchange, 'red');
    await ch.bindQueue(q1, exchange, 'green');
    await ch.bindQueue(q2, exchange, 'red');
    const pub = await clients.confirmChannel();
    for (const key of ['red', 'green', 'blue']) pub.publish(exchange, key, Buffer.from(key));
    await pub.waitForConfirms();
    expect(bodies(await drain(ch, q1))).toEqual(['red', 'green']);
    expect(bodies(await drain(ch, q2))).toEqual(['red']);
    await ch.deleteExchange(exchange);
  });

  it('delivers one copy to a queue matched by two topic bindings', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-topic-dup');
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'a.*');
    await ch.bindQueue(queue, exchange, '*.b');
    await ch.bindQueue(queue, exchange, '#');
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, exchange, 'a.b', ['once']);
    expect(bodies(await drain(ch, queue))).toEqual(['once']);
    await ch.deleteExchange(exchange);
  });

  it('fans out to every bound queue whatever the routing key', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-fanout');
    await ch.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
    const queues: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, exchange, `ignored-${i}`);
      queues.push(queue);
    }
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, exchange, 'whatever', ['all']);
    for (const q of queues) expect(bodies(await drain(ch, q))).toEqual(['all']);
    await ch.deleteExchange(exchange);
  });
});

describe('mandatory messages', () => {
  it('returns an unroutable mandatory message with 312 NO_ROUTE', async () => {
    const { ch } = await clients.open();
    const exchange = uniqueName('x-mandatory');
    await ch.assertExchange(exchange, 'direct', { durable: false });
    const returned = new Promise<Message>((resolve) => ch.once('return', resolve));
    ch.publish(exchange, 'nobody-bound', Buffer.from('bounce'), { mandatory: true, messageId: 'm-1', headers: { h: 'v' } });
    const msg = await returned;
    expect(msg.fields).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', exchange, routingKey: 'nobody-bound' });
    expect(msg.content.toString()).toBe('bounce');
    expect(msg.properties).toMatchObject({ messageId: 'm-1', headers: { h: 'v' } });
    await ch.deleteExchange(exchange);
  });

  it('returns a mandatory message sent to the default exchange for a missing queue', async () => {
    const { ch } = await clients.open();
    const returned = new Promise<Message>((resolve) => ch.once('return', resolve));
    ch.sendToQueue(uniqueName('no-such-queue'), Buffer.from('bounce'), { mandatory: true });
    expect((await returned).fields).toMatchObject({ replyCode: 312, exchange: '' });
  });

  it('silently drops an unroutable message that is not mandatory, and delivers a routable mandatory one', async () => {
    const { ch } = await clients.open();
    const returns: Message[] = [];
    ch.on('return', (m: Message) => returns.push(m));
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.publish('amq.direct', uniqueName('nobody'), Buffer.from('dropped'));
    ch.sendToQueue(queue, Buffer.from('kept'), { mandatory: true });
    // A synchronous round trip on the same channel: any basic.return would precede its reply.
    await ch.checkQueue(queue);
    expect(returns).toEqual([]);
    expect(bodies(await drain(ch, queue))).toEqual(['kept']);
  });
});
