/**
 * Acknowledgement: auto, client (cumulative, per subscription), client-individual; NACK with
 * requeue or dead-lettering; prefetch-count; unacked messages requeued when the connection
 * ends; ACK after UNSUBSCRIBE; the ack header names per version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, RawClient, startStompBroker, uniqueName, type RawFrame, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker();
});
afterAll(async () => {
  await b?.stop();
});

const queue = (name: string) => b.broker.core.vhosts.get('/')!.queues.get(name)!;

/** A queue holding messages m0..m(n-1), sent with receipts. */
async function filledQueue(n: number, extra: Record<string, string> = {}): Promise<string> {
  const q = uniqueName('ack');
  const [p] = await RawClient.login(b.tcpPort);
  for (let i = 0; i < n; i++) p.send('SEND', { destination: `/queue/${q}`, ...extra, ...(i === n - 1 ? { receipt: 'last' } : {}) }, `m${i}`);
  await p.until('RECEIPT');
  p.close();
  return q;
}

async function take(c: RawClient, n: number): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next());
  return out;
}

const bodies = (frames: RawFrame[]) => frames.map((f) => f.body.toString());

describe('ack modes', () => {
  it('auto: no ack header, nothing to acknowledge, nothing redelivered', async () => {
    const q = await filledQueue(3);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    const got = await take(c, 3);
    expect(bodies(got)).toEqual(['m0', 'm1', 'm2']);
    expect(got[0]!.headers['ack']).toBeUndefined();
    expect(got[0]!.headers['message-id']).toBeTruthy();
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    expect(queue(q).messageCount).toBe(0);
  });

  it('client: an ACK settles that message and every earlier one of the subscription', async () => {
    const q = await filledQueue(5);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    const got = await take(c, 5);
    expect(got[2]!.headers['ack']).toBe(got[2]!.headers['message-id']);
    c.send('ACK', { id: got[2]!.headers['ack']!, receipt: 'a' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => queue(q).messageCount === 2);
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    const again = await take(d, 2);
    expect(bodies(again)).toEqual(['m3', 'm4']);
    expect(again.map((f) => f.headers['redelivered'])).toEqual(['true', 'true']);
    d.close();
  });

  it('client mode is cumulative per subscription only', async () => {
    const q1 = await filledQueue(2);
    const q2 = await filledQueue(2);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q1}`, id: 'one', ack: 'client' });
    const first = await take(c, 2);
    c.send('SUBSCRIBE', { destination: `/queue/${q2}`, id: 'two', ack: 'client' });
    const second = await take(c, 2);
    // the later delivery tag on subscription 'two' does not reach back into subscription 'one'
    c.send('ACK', { id: second[1]!.headers['ack']!, receipt: 'a' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    expect(first).toHaveLength(2);
    expect(queue(q1).messageCount).toBe(2);
    expect(queue(q2).messageCount).toBe(0);
  });

  it('client-individual: an ACK settles that one message only', async () => {
    const q = await filledQueue(3);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual' });
    const got = await take(c, 3);
    c.send('ACK', { id: got[1]!.headers['ack']!, receipt: 'a' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => queue(q).messageCount === 2);
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    expect(bodies(await take(d, 2))).toEqual(['m0', 'm2']);
    d.close();
  });

  it('an unknown or foreign ack id is an ERROR', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('ACK', { id: 'nonsense' });
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('Invalid message-id');
    const q = await filledQueue(1);
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual' });
    const m = await d.next();
    d.send('ACK', { id: m.headers['ack']! });
    d.send('ACK', { id: m.headers['ack']!, receipt: 'twice' });
    const e = (await d.until('ERROR')).pop()!;
    expect(e.headers['message']).toBe('precondition_failed');
    expect(e.body.toString()).toContain('unknown delivery tag');
    expect(e.headers['receipt-id']).toBe('twice');
  });

  it('ACK on an auto subscription is an ERROR', async () => {
    const q = await filledQueue(1);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    const m = await c.next();
    c.send('ACK', { id: m.headers['message-id']! });
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('Invalid acknowledgement');
  });
});

describe('ack header names per version', () => {
  it('1.1: ACK names the message by message-id (and subscription)', async () => {
    const q = await filledQueue(1);
    const [c] = await RawClient.login(b.tcpPort, '1.1');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    const m = await c.next();
    expect(m.headers['ack']).toBeUndefined();
    c.send('ACK', { 'message-id': m.headers['message-id']!, subscription: 's', receipt: 'a' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    expect(queue(q).messageCount).toBe(0);
  });

  it('1.0: ACK by message-id; SUBSCRIBE without id; UNSUBSCRIBE by destination', async () => {
    const q = await filledQueue(2);
    const [c] = await RawClient.login(b.tcpPort, '1.0');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, ack: 'client' });
    const got = await take(c, 2);
    c.send('ACK', { 'message-id': got[1]!.headers['message-id']!, receipt: 'a' });
    await c.until('RECEIPT');
    c.send('UNSUBSCRIBE', { destination: `/queue/${q}`, receipt: 'u' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    expect(queue(q).messageCount).toBe(0);
  });
});

describe('NACK', () => {
  it('requeues by default: the message comes back redelivered', async () => {
    const q = await filledQueue(1);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual' });
    const m = await c.next();
    expect(m.headers['redelivered']).toBe('false');
    c.send('NACK', { id: m.headers['ack']! });
    const again = await c.next();
    expect(again.body.toString()).toBe('m0');
    expect(again.headers['redelivered']).toBe('true');
    c.close();
  });

  it('requeue:false dead-letters through the queue dead-letter exchange (x- headers)', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const dlq = uniqueName('dlq');
    const q = uniqueName('work');
    c.send('SUBSCRIBE', { destination: `/queue/${dlq}`, id: 'dead' });
    c.send('SUBSCRIBE', {
      destination: `/queue/${q}`,
      id: 'work',
      ack: 'client',
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dlq,
    });
    // /amq/queue/: a SEND to /queue/ would redeclare it without the arguments (406, as in RabbitMQ)
    c.send('SEND', { destination: `/amq/queue/${q}` }, 'poison');
    const m = await c.next();
    expect(m.headers['subscription']).toBe('work');
    c.send('NACK', { id: m.headers['ack']!, requeue: 'false' });
    const dead = await c.next();
    expect(dead.headers['subscription']).toBe('dead');
    expect(dead.body.toString()).toBe('poison');
    c.close();
  });

  it('in client mode a NACK is cumulative too', async () => {
    const q = await filledQueue(3);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client', 'prefetch-count': '3' });
    const got = await take(c, 3);
    c.send('NACK', { id: got[1]!.headers['ack']!, requeue: 'false', receipt: 'n' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    expect(queue(q).messageCount).toBe(1); // m2 requeued by the close; m0 and m1 dropped
  });
});

describe('prefetch-count and session end', () => {
  it('prefetch-count limits unacknowledged deliveries per subscription', async () => {
    const q = await filledQueue(5);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual', 'prefetch-count': '2' });
    const got = await take(c, 2);
    expect(await c.quiet(100)).toBe(true);
    c.send('ACK', { id: got[0]!.headers['ack']! });
    expect((await c.next()).body.toString()).toBe('m2');
    expect(await c.quiet(100)).toBe(true);
    c.close();
  });

  it('unacked messages are requeued (redelivered) when the connection ends, in their order', async () => {
    const q = await filledQueue(3);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    await take(c, 3);
    c.close();
    await eventually(() => queue(q).messageCount === 3);
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    const again = await take(d, 3);
    expect(bodies(again)).toEqual(['m0', 'm1', 'm2']);
    expect(again.every((f) => f.headers['redelivered'] === 'true')).toBe(true);
    d.close();
  });

  it('messages delivered before UNSUBSCRIBE can still be acknowledged after it (as in RabbitMQ)', async () => {
    const q = await filledQueue(2);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual' });
    const got = await take(c, 2);
    c.send('UNSUBSCRIBE', { id: 's', receipt: 'u' });
    await c.until('RECEIPT');
    c.send('ACK', { id: got[0]!.headers['ack']!, receipt: 'a1' });
    await c.until('RECEIPT');
    // the other one is still held; it goes back when the connection ends
    expect(queue(q).messageCount).toBe(0);
    c.send('ACK', { id: got[1]!.headers['ack']!, receipt: 'a2' });
    await c.until('RECEIPT');
    // all settled: the retired subscription is gone, and a further ACK names nothing
    c.send('ACK', { id: got[1]!.headers['ack']! });
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('Subscription not found');
    await eventually(() => b.broker.core.connections.size === 0);
    expect(queue(q).messageCount).toBe(0);
  });

  it('a subscription id may be reused after UNSUBSCRIBE; duplicates are an ERROR', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    const q = uniqueName('dup');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    c.send('UNSUBSCRIBE', { id: 's' });
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', receipt: 'ok' });
    await c.until('RECEIPT');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('Duplicated subscription identifier');
    c.send('UNSUBSCRIBE', { id: 'never' });
  });
});
