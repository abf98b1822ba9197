/**
 * Headers ↔ AMQP properties: what a SEND becomes in the core's canonical message, and what a
 * MESSAGE frame shows of a message (RabbitMQ's mapping).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertiesFromHeaders, propertyHeaders } from '../../../plugins/stomp/message.js';
import { RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';

describe('mapping (unit)', () => {
  it('SEND headers → basic properties and a headers table', () => {
    const h: Record<string, string> = Object.assign(Object.create(null), {
      destination: '/queue/x',
      receipt: 'r',
      transaction: 't',
      'content-length': '3',
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      persistent: 'true',
      priority: '7',
      'correlation-id': 'corr',
      'reply-to': '/queue/replies',
      expiration: '60000',
      'amqp-message-id': 'mid',
      timestamp: '1700000000',
      type: 'order.created',
      'user-id': 'guest',
      'app-id': 'shop',
      custom: 'value',
      'x-trace': 'abc',
    });
    expect(propertiesFromHeaders(h, h['reply-to'])).toEqual({
      contentType: 'application/json',
      contentEncoding: 'gzip',
      deliveryMode: 2,
      priority: 7,
      correlationId: 'corr',
      replyTo: '/queue/replies',
      expiration: '60000',
      messageId: 'mid',
      timestamp: 1700000000,
      type: 'order.created',
      userId: 'guest',
      appId: 'shop',
      headers: { custom: 'value', 'x-trace': 'abc' },
    });
  });

  it('properties → MESSAGE headers; a plain reply-to queue name becomes /reply-queue/; table values as text', () => {
    const text = propertyHeaders(
      {
        contentType: 'text/plain',
        deliveryMode: 2,
        priority: 3,
        replyTo: 'amq.gen-abc',
        timestamp: 12,
        messageId: 'm:1',
        headers: { s: 'str', n: 42, big: 10n ** 20n, f: 1.5, yes: true, bytes: Buffer.from('x'), nested: { a: 1 }, destination: 'forged' },
      },
      '1.2',
    );
    expect(text.split('\n').filter(Boolean)).toEqual([
      'content-type:text/plain',
      'persistent:true',
      'priority:3',
      'reply-to:/reply-queue/amq.gen-abc',
      'amqp-message-id:m\\c1',
      'timestamp:12',
      's:str',
      'n:42',
      'big:100000000000000000000',
      'f:1.5',
      'yes:true',
    ]);
    expect(propertyHeaders({ replyTo: '/topic/back' }, '1.2')).toBe('reply-to:/topic/back\n');
  });
});

describe('over the wire', () => {
  let b: StompTestBroker;
  beforeAll(async () => {
    b = await startStompBroker();
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('a SEND keeps its properties and custom headers through the broker to a MESSAGE', async () => {
    const q = uniqueName('props');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    c.send(
      'SEND',
      {
        destination: `/queue/${q}`,
        'content-type': 'application/json',
        persistent: 'true',
        priority: '4',
        'correlation-id': 'c-9',
        expiration: '60000',
        'amqp-message-id': 'id-1',
        timestamp: '1700000000',
        type: 't',
        'user-id': 'guest',
        'app-id': 'a',
        'x-custom': 'v',
      },
      '{}',
    );
    const m = await c.next();
    expect(m.headers).toMatchObject({
      subscription: 's',
      destination: `/queue/${q}`,
      redelivered: 'false',
      'content-type': 'application/json',
      persistent: 'true',
      priority: '4',
      'correlation-id': 'c-9',
      expiration: '60000',
      'amqp-message-id': 'id-1',
      timestamp: '1700000000',
      type: 't',
      'user-id': 'guest',
      'app-id': 'a',
      'x-custom': 'v',
      'content-length': '2',
    });
    expect(m.headers['ack']).toBe(m.headers['message-id']);
    // the core saw a persistent message with the properties
    const entry = b.broker.core.vhosts.get('/')!.queues.get(q)!;
    expect(entry.unackedCount).toBe(1);
    c.close();
  });

  it('a user-id that is not the logged-in user is refused (precondition_failed)', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${uniqueName('uid')}`, 'user-id': 'mallory', receipt: 'r' }, 'x');
    const e = (await c.until('ERROR')).pop()!;
    expect(e.headers['message']).toBe('precondition_failed');
    expect(e.body.toString()).toContain("'mallory'");
  });

  it('an invalid expiration is refused; a zero one expires unless a consumer is ready', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${uniqueName('exp')}`, expiration: 'soon' }, 'x');
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('precondition_failed');
    const q = uniqueName('ttl0');
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SEND', { destination: `/queue/${q}`, expiration: '0', receipt: 'r' }, 'gone');
    await d.until('RECEIPT');
    expect(b.broker.core.vhosts.get('/')!.queues.get(q)!.messageCount).toBe(0);
    d.close();
  });

  it('priority headers order delivery in a priority queue (x-max-priority)', async () => {
    const q = uniqueName('prio');
    const [c] = await RawClient.login(b.tcpPort);
    const args = { 'x-max-priority': '9' };
    for (const p of ['1', '9', '5']) c.send('SEND', { destination: `/queue/${q}`, priority: p, ...args }, `p${p}`);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ...args });
    const got = [await c.next(), await c.next(), await c.next()].map((f) => f.body.toString());
    expect(got).toEqual(['p9', 'p5', 'p1']);
    c.close();
  });
});
