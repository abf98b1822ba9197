import { describe, expect, it } from 'vitest';
import type { CoreConnection, Session } from '../../../src/core/api.js';
import { Recorder, msg, setup, sleep } from './harness.js';
import type { FieldTable } from '../../../src/codec/types.js';

/**
 * Publisher flow by bytes in the core (src/core/publisher-flow.ts), driven through the Session
 * API: which events hold a publishing connection and which let it go. A 1,000-byte mark (let
 * go at 500) and 300-byte bodies; the consumer takes one message at a time.
 */
function world(queueArgs: FieldTable = {}) {
  const { core, conn: pubConn, s: pub } = setup();
  core.publisherFlow.setHighBytes(1000);
  const events: boolean[] = [];
  pubConn.flow = { queueFlow: (flowing) => events.push(flowing) };
  pub.declareQueue('q', { arguments: queueArgs });
  const subConn = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 2 });
  const rec = new Recorder();
  const sub = subConn.openSession(rec);
  sub.qos(1, false);
  const tag = sub.consume('q', { noAck: false });
  const q = core.vhosts.get('/')!.queues.get('q')!;
  const publish = (n: number) => {
    for (let i = 0; i < n; i++) pub.publish(msg('q', 'x'.repeat(300)), false);
  };
  /** ack the oldest delivery (the next one is then delivered) */
  const ackOne = () => sub.ack(rec.got.shift()!.deliveryTag, false);
  return { core, pubConn, pub, subConn, sub, rec, tag, q, events, publish, ackOne };
}

const held = (c: CoreConnection) => c.flowHeld;

describe('publisher flow by bytes (core)', () => {
  it('holds the publisher once ready bytes pass the mark, and lets it go only at half of it', () => {
    const w = world();
    w.publish(4); // one delivered, 900 bytes ready
    expect(w.events).toEqual([]);
    w.publish(1); // 1,200 ready: past the mark
    expect(w.events).toEqual([false]);
    expect(held(w.pubConn)).toBe(true);
    expect(w.core.listConnections().find((c) => c.id === w.pubConn.id)!.flow).toBe(true);
    w.publish(1); // a publish already read still goes in, and does not hold twice
    expect(w.q.readyBytes).toBe(1500);
    expect(w.events).toEqual([false]);
    for (let i = 0; i < 3; i++) w.ackOne(); // 600 ready: still above 500
    expect(w.q.readyBytes).toBe(600);
    expect(w.events).toEqual([false]);
    w.ackOne(); // 300 ready
    expect(w.events).toEqual([false, true]);
    expect(held(w.pubConn)).toBe(false);
    expect(w.core.publisherFlow.holding).toBe(0);
  });

  it('does not hold for a queue without consumers, nor with the mark at 0', () => {
    const w = world();
    w.sub.cancel(w.tag);
    w.publish(10);
    expect(w.events).toEqual([]);
    const v = world();
    v.core.publisherFlow.setHighBytes(0);
    v.publish(10);
    expect(v.events).toEqual([]);
  });

  it('lets the publisher go when the last consumer leaves, the queue is purged or deleted', () => {
    const a = world();
    a.publish(5);
    a.sub.cancel(a.tag);
    expect(a.events).toEqual([false, true]);
    const b = world();
    b.publish(5);
    b.pub.purgeQueue('q');
    expect(b.events).toEqual([false, true]);
    const c = world();
    c.publish(5);
    c.pub.deleteQueue('q', false, false);
    expect(c.events).toEqual([false, true]);
    expect(c.core.publisherFlow.holding).toBe(0);
  });

  it('lets the publisher go when messages expire from a stalled queue', async () => {
    const w = world({ 'x-message-ttl': 30 });
    w.publish(5);
    expect(w.events).toEqual([false]);
    await sleep(120);
    expect(w.q.readyBytes).toBe(0);
    expect(w.events).toEqual([false, true]);
  });

  it('forgets a held connection that closes', () => {
    const w = world();
    w.publish(5);
    w.pubConn.close();
    expect(w.core.publisherFlow.holding).toBe(0);
    for (let i = 0; i < 4; i++) w.ackOne();
    expect(w.events).toEqual([false]); // nothing told to a closed connection
  });

  it('never holds a connection with a consumer that acknowledges, and frees a held one that starts one', () => {
    const w = world();
    w.pub.declareQueue('other', {});
    const own: Session = w.pub;
    own.consume('other', { noAck: true }); // no acks to read: may still be held
    w.publish(5);
    expect(w.events).toEqual([false]);
    own.consume('other', { noAck: false }); // its acks come in on the held socket
    expect(w.events).toEqual([false, true]);
    expect(w.core.publisherFlow.holding).toBe(0);
    w.publish(3);
    expect(w.q.readyBytes).toBeGreaterThan(1000);
    expect(w.events).toEqual([false, true]);
  });
});
