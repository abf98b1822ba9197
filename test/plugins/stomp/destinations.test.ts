/**
 * Destinations as RabbitMQ's STOMP plugin has them: what each declares and binds, where
 * SENDs go, durable topic subscriptions, temp queues, x- headers as queue arguments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startStompBroker, uniqueName, type RawFrame, type StompTestBroker } from './helpers.js';
import { encodeDestinationPart, formatDestination, parseDestination } from '../../../plugins/stomp/destinations.js';
import { subscriptionQueueName } from '../../../plugins/stomp/endpoints.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker();
});
afterAll(async () => {
  await b?.stop();
});

const vhost = () => b.broker.core.vhosts.get('/')!;

async function subscribe(c: RawClient, headers: Record<string, string>): Promise<void> {
  c.send('SUBSCRIBE', { ...headers, receipt: 'sub' });
  const frames = await c.until('RECEIPT');
  expect(frames.map((f) => f.command)).toEqual(['RECEIPT']);
}

async function lastError(c: RawClient): Promise<RawFrame> {
  const f = (await c.until('ERROR')).pop()!;
  await c.waitClosed();
  return f;
}

describe('parsing and formatting (unit)', () => {
  it('reads every destination kind, percent-decoding names', () => {
    expect(parseDestination('/queue/a%2Fb')).toEqual({ kind: 'queue', name: 'a/b' });
    expect(parseDestination('/topic/x.*.#')).toEqual({ kind: 'topic', key: 'x.*.#' });
    expect(parseDestination('/exchange/ex')).toEqual({ kind: 'exchange', exchange: 'ex', key: null });
    expect(parseDestination('/exchange/ex/k.1')).toEqual({ kind: 'exchange', exchange: 'ex', key: 'k.1' });
    expect(parseDestination('/amq/queue/q')).toEqual({ kind: 'amqqueue', name: 'q' });
    expect(parseDestination('/temp-queue/t')).toEqual({ kind: 'temp-queue', name: 't' });
    expect(parseDestination('/reply-queue/amq.gen-x/y')).toEqual({ kind: 'reply-queue', name: 'amq.gen-x/y' });
    for (const bad of ['/queue/', '/queue/a/b', '/exchange//k', '/exchange/a/b/c', 'queue-without-slash', '/unknown/x']) {
      expect(() => parseDestination(bad), bad).toThrow();
    }
  });

  it('formats MESSAGE destinations as RabbitMQ does, escaping /, % and non-ASCII bytes', () => {
    expect(formatDestination('', 'q')).toBe('/queue/q');
    expect(formatDestination('amq.topic', 'a.b')).toBe('/topic/a.b');
    expect(formatDestination('ex', '')).toBe('/exchange/ex');
    expect(formatDestination('ex', 'k')).toBe('/exchange/ex/k');
    expect(encodeDestinationPart('a/b%c é')).toBe('a%2Fb%25c %C3%A9');
  });
});

describe('/queue/', () => {
  it('SUBSCRIBE declares a durable shared queue; SEND goes through the default exchange', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('q');
    await subscribe(c, { destination: `/queue/${q}`, id: '1' });
    const queue = vhost().queues.get(q)!;
    expect(queue.durable).toBe(true);
    expect(queue.autoDelete).toBe(false);
    c.send('SEND', { destination: `/queue/${q}` }, 'm');
    const m = await c.next();
    expect(m.headers['destination']).toBe(`/queue/${q}`);
    expect(m.headers['subscription']).toBe('1');
    c.close();
  });

  it('SEND declares the queue (first SEND only), so messages wait for a subscriber', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('q');
    c.send('SEND', { destination: `/queue/${q}`, receipt: 'r' }, 'waiting');
    await c.until('RECEIPT');
    expect(vhost().queues.get(q)!.messageCount).toBe(1);
    c.close();
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 'x' });
    expect((await d.next()).body.toString()).toBe('waiting');
    d.close();
  });

  it('queue headers: durable, auto-delete, exclusive and x- arguments', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('args');
    await subscribe(c, {
      destination: `/queue/${q}`,
      id: '1',
      durable: 'false',
      'auto-delete': 'true',
      'x-max-length': '2',
      'x-max-priority': '5',
      'x-dead-letter-exchange': 'amq.fanout',
      'x-queue-type': 'classic',
    });
    const queue = vhost().queues.get(q)!;
    expect(queue.durable).toBe(false);
    expect(queue.autoDelete).toBe(true);
    expect(queue.ownerId).not.toBe(0); // transient implies exclusive unless the frame says otherwise (RabbitMQ)
    expect(queue.arguments).toEqual({
      'x-max-length': 2,
      'x-max-priority': 5,
      'x-dead-letter-exchange': 'amq.fanout',
      'x-queue-type': 'classic',
    });
    c.send('UNSUBSCRIBE', { id: '1', receipt: 'u' });
    await c.until('RECEIPT');
    expect(vhost().queues.has(q)).toBe(false); // auto-delete: gone with its last consumer
    c.close();
  });

  it('durable:false makes a private queue (exclusive, auto-delete), unless exclusive:false says otherwise', async () => {
    const [owner] = await RawClient.login(b.tcpPort);
    const [other] = await RawClient.login(b.tcpPort);
    const q = uniqueName('private');
    await subscribe(owner, { destination: `/queue/${q}`, id: '1', durable: 'false' });
    other.send('SEND', { destination: `/queue/${q}`, durable: 'false' }, 'x');
    expect((await lastError(other)).headers['message']).toBe('resource_locked');

    const shared = uniqueName('shared');
    const [third] = await RawClient.login(b.tcpPort);
    await subscribe(owner, { destination: `/queue/${shared}`, id: '2', durable: 'false', exclusive: 'false' });
    third.send('SEND', { destination: `/queue/${shared}`, durable: 'false', exclusive: 'false' }, 'shared');
    expect((await owner.next()).body.toString()).toBe('shared');
    expect(vhost().queues.get(shared)!.autoDelete).toBe(true);
    owner.close();
    third.close();
  });

  it('x-max-length from headers is enforced', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('maxlen');
    for (let i = 0; i < 5; i++) c.send('SEND', { destination: `/queue/${q}`, 'x-max-length': '2' }, `m${i}`);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: '1', 'x-max-length': '2' });
    expect([(await c.next()).body.toString(), (await c.next()).body.toString()]).toEqual(['m3', 'm4']);
    c.close();
  });

  it('an inequivalent redeclaration is precondition_failed', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('ineq');
    await subscribe(c, { destination: `/queue/${q}`, id: '1' });
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: '2', 'x-max-length': '9' });
    const e = await lastError(c);
    expect(e.headers['message']).toBe('precondition_failed');
    expect(e.body.toString()).toContain('x-max-length');
  });
});

describe('/amq/queue/ and /exchange/', () => {
  it('/amq/queue/ uses an existing queue and never declares one', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('existing');
    c.send('SUBSCRIBE', { destination: `/amq/queue/${q}`, id: '1' });
    const e = await lastError(c);
    expect(e.headers['message']).toBe('not_found');
    expect(e.body.toString()).toContain(`no queue '${q}'`);
    expect(vhost().queues.has(q)).toBe(false);

    const [d] = await RawClient.login(b.tcpPort);
    await subscribe(d, { destination: `/queue/${q}`, id: 'declare' });
    await subscribe(d, { destination: `/amq/queue/${q}`, id: '2' });
    d.send('SEND', { destination: `/amq/queue/${q}` }, 'via amq');
    expect((await d.next()).body.toString()).toBe('via amq');
    d.close();
  });

  it('/exchange/<name>/<key>: a private queue bound with the key; SEND publishes with it', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    await subscribe(c, { destination: '/exchange/amq.direct/green', id: 'g' });
    c.send('SEND', { destination: '/exchange/amq.direct/red' }, 'not for me');
    c.send('SEND', { destination: '/exchange/amq.direct/green' }, 'for me');
    const m = await c.next();
    expect(m.body.toString()).toBe('for me');
    expect(m.headers['destination']).toBe('/exchange/amq.direct/green');
    const mine = [...vhost().queues.values()].filter((q) => q.name.startsWith('stomp-subscription-') && q.ownerId !== 0);
    expect(mine.length).toBeGreaterThan(0);
    c.close();
  });

  it('/exchange/<name> without a key binds with an empty key (fanout)', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    await subscribe(c, { destination: '/exchange/amq.fanout', id: 'f' });
    c.send('SEND', { destination: '/exchange/amq.fanout/anything' }, 'fan');
    expect((await c.next()).body.toString()).toBe('fan');
    c.close();
  });

  it('a missing exchange is not_found', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: '/exchange/no-such-exchange/k', id: '1', receipt: 'r9' });
    const e = await lastError(c);
    expect(e.headers['message']).toBe('not_found');
    expect(e.headers['receipt-id']).toBe('r9');
  });

  it('invalid destinations and SEND to /temp-queue are errors', async () => {
    for (const destination of ['/queue/a/b', 'plain', '/exchange/']) {
      const [c] = await RawClient.login(b.tcpPort);
      c.send('SEND', { destination }, 'x');
      const e = await lastError(c);
      expect(['Invalid destination', 'Unknown destination'], destination).toContain(e.headers['message']);
    }
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: '/temp-queue/x' }, 'x');
    expect((await lastError(c)).body.toString()).toContain('/temp-queue');
  });
});

describe('/topic/', () => {
  it('each subscriber gets its own copy; wildcards match; nobody listening drops the message', async () => {
    const [a] = await RawClient.login(b.tcpPort);
    const [c] = await RawClient.login(b.tcpPort);
    const key = uniqueName('t').replace(/-/g, '_');
    await subscribe(a, { destination: `/topic/${key}.*`, id: 'a' });
    await subscribe(c, { destination: `/topic/${key}.#`, id: 'c' });
    a.send('SEND', { destination: `/topic/${key}.x.y` }, 'deep'); // only # matches
    a.send('SEND', { destination: `/topic/${key}.x` }, 'shallow');
    expect((await a.next()).body.toString()).toBe('shallow');
    expect([(await c.next()).body.toString(), (await c.next()).body.toString()]).toEqual(['deep', 'shallow']);
    const m = await RawClient.login(b.tcpPort).then(([x]) => x);
    m.send('SEND', { destination: `/topic/${uniqueName('nobody')}`, receipt: 'r' }, 'lost');
    expect((await m.until('RECEIPT')).length).toBe(1);
    for (const x of [a, c, m]) x.close();
  });

  it('a transient subscription queue is exclusive and auto-delete, and goes away with the subscription', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const key = uniqueName('transient');
    const before = new Set(vhost().queues.keys());
    await subscribe(c, { destination: `/topic/${key}`, id: 's' });
    const added = [...vhost().queues.values()].filter((q) => !before.has(q.name));
    expect(added).toHaveLength(1);
    expect(added[0]!.name).toMatch(/^stomp-subscription-/);
    expect(added[0]!.ownerId).not.toBe(0);
    expect(added[0]!.autoDelete).toBe(true);
    expect(added[0]!.durable).toBe(false);
    c.send('UNSUBSCRIBE', { id: 's', receipt: 'u' });
    await c.until('RECEIPT');
    expect(vhost().queues.has(added[0]!.name)).toBe(false);
    c.close();
  });

  it('x-queue-name names the subscription queue', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const name = uniqueName('named-sub');
    await subscribe(c, { destination: '/topic/named.key', id: 's', 'x-queue-name': name });
    expect(vhost().queues.has(name)).toBe(true);
    c.close();
  });

  it('durable subscription: the queue keeps messages while the subscriber is away; UNSUBSCRIBE durable deletes it', async () => {
    const key = uniqueName('durable');
    const headers = { destination: `/topic/${key}`, id: 'my-sub', durable: 'true', 'auto-delete': 'false', ack: 'client' };
    const [c] = await RawClient.login(b.tcpPort);
    await subscribe(c, headers);
    c.send('DISCONNECT', { receipt: 'bye' });
    await c.waitClosed();
    // named after (destination, id), so the same subscription finds the same queue again
    const queueName = subscriptionQueueName(`/topic/${key}`, 'my-sub');
    expect(vhost().queues.get(queueName)!.durable).toBe(true);
    const [p] = await RawClient.login(b.tcpPort);
    p.send('SEND', { destination: `/topic/${key}`, receipt: 'r' }, 'while away');
    await p.until('RECEIPT');
    p.close();

    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', headers);
    const m = await d.next();
    expect(m.body.toString()).toBe('while away');
    d.send('ACK', { id: m.headers['ack']! });
    d.send('UNSUBSCRIBE', { id: 'my-sub', durable: 'true', receipt: 'u' });
    await d.until('RECEIPT');
    expect(vhost().queues.has(queueName)).toBe(false);
    d.close();
  });

  it('a durable subscription needs an id', async () => {
    const [c] = await RawClient.login(b.tcpPort, '1.0');
    c.send('SUBSCRIBE', { destination: '/topic/x', durable: 'true' });
    expect((await lastError(c)).body.toString()).toContain('id');
  });
});

describe('/temp-queue/ (reply queues)', () => {
  it('request/reply between two STOMP clients: reply-to is rewritten, replies come back on the temp subscription', async () => {
    const service = uniqueName('rpc');
    const [server] = await RawClient.login(b.tcpPort);
    const [client] = await RawClient.login(b.tcpPort);
    await subscribe(server, { destination: `/queue/${service}`, id: 'srv' });

    client.send('SEND', { destination: `/queue/${service}`, 'reply-to': '/temp-queue/answers', 'correlation-id': 'c1' }, 'question');
    const req = await server.next();
    const replyTo = req.headers['reply-to']!;
    expect(replyTo).toMatch(/^\/reply-queue\/amq\.gen-/);
    expect(req.headers['correlation-id']).toBe('c1');

    server.send('SEND', { destination: replyTo, 'correlation-id': 'c1' }, 'answer');
    const reply = await client.next();
    expect(reply.body.toString()).toBe('answer');
    expect(reply.headers['subscription']).toBe('/temp-queue/answers');
    expect(reply.headers['correlation-id']).toBe('c1');

    // the same temp-queue name reuses the queue; the queue is private and dies with the connection
    client.send('SEND', { destination: `/queue/${service}`, 'reply-to': '/temp-queue/answers' }, 'again');
    expect((await server.next()).headers['reply-to']).toBe(replyTo);
    const queueName = replyTo.slice('/reply-queue/'.length);
    expect(vhost().queues.get(queueName)!.ownerId).not.toBe(0);
    client.send('DISCONNECT', { receipt: 'bye' });
    await client.waitClosed();
    expect(vhost().queues.has(queueName)).toBe(false);
    server.close();
  });

  it('the temp subscription cannot be unsubscribed or reused as a subscription id', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: '/queue/x', id: '/temp-queue/mine' });
    expect((await lastError(c)).headers['message']).toBe('Invalid subscription id');
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: '/temp-queue/x', id: '1' });
    expect((await lastError(d)).headers['message']).toBe('Invalid destination');
  });
});
