/**
 * Transactions (BEGIN/COMMIT/ABORT): SENDs and ACK/NACKs inside one take effect only on
 * COMMIT, are discarded on ABORT or disconnect; and receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker();
});
afterAll(async () => {
  await b?.stop();
});

const queue = (name: string) => b.broker.core.vhosts.get('/')!.queues.get(name);

describe('transactions', () => {
  it('SENDs in a transaction are delivered on COMMIT, in order, and not before', async () => {
    const q = uniqueName('tx');
    const [consumer] = await RawClient.login(b.tcpPort);
    consumer.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', receipt: 'sub' });
    await consumer.until('RECEIPT');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('BEGIN', { transaction: 't1', receipt: 'b' });
    await c.until('RECEIPT');
    for (let i = 0; i < 3; i++) c.send('SEND', { destination: `/queue/${q}`, transaction: 't1', receipt: `s${i}` }, `tx${i}`);
    // each buffered SEND is receipted at once; nothing is delivered yet
    expect((await c.until('RECEIPT')).length + (await c.until('RECEIPT')).length + (await c.until('RECEIPT')).length).toBe(3);
    expect(await consumer.quiet(100)).toBe(true);
    c.send('COMMIT', { transaction: 't1', receipt: 'commit' });
    expect((await c.next()).headers['receipt-id']).toBe('commit');
    const got = [await consumer.next(), await consumer.next(), await consumer.next()].map((f) => f.body.toString());
    expect(got).toEqual(['tx0', 'tx1', 'tx2']);
    c.close();
    consumer.close();
  });

  it('ABORT discards the buffered SENDs; a transaction may not be used after', async () => {
    const q = uniqueName('abort');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${q}`, receipt: 'declare' }, 'outside');
    await c.until('RECEIPT');
    c.send('BEGIN', { transaction: 't' });
    c.send('SEND', { destination: `/queue/${q}`, transaction: 't' }, 'inside');
    c.send('ABORT', { transaction: 't', receipt: 'a' });
    await c.until('RECEIPT');
    expect(queue(q)!.messageCount).toBe(1);
    c.send('COMMIT', { transaction: 't', receipt: 'late' });
    const e = (await c.until('ERROR')).pop()!;
    expect(e.headers['message']).toBe('Bad transaction');
    expect(e.headers['receipt-id']).toBe('late');
    await c.waitClosed();
  });

  it('a disconnect discards open transactions', async () => {
    const q = uniqueName('dropped');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${q}`, receipt: 'declare' }, 'outside');
    await c.until('RECEIPT');
    c.send('BEGIN', { transaction: 't' });
    c.send('SEND', { destination: `/queue/${q}`, transaction: 't' }, 'never');
    c.send('DISCONNECT', { receipt: 'bye' });
    expect((await c.next()).headers['receipt-id']).toBe('bye');
    await c.waitClosed();
    expect(queue(q)!.messageCount).toBe(1);
  });

  it('ACKs in a transaction settle on COMMIT; after ABORT the message is still unacked', async () => {
    const q = uniqueName('txack');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${q}` }, 'a');
    c.send('SEND', { destination: `/queue/${q}` }, 'b');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual' });
    const [m1, m2] = [await c.next(), await c.next()];
    c.send('BEGIN', { transaction: 'keep' });
    c.send('ACK', { id: m1.headers['ack']!, transaction: 'keep' });
    c.send('COMMIT', { transaction: 'keep' });
    c.send('BEGIN', { transaction: 'drop' });
    c.send('ACK', { id: m2.headers['ack']!, transaction: 'drop' });
    c.send('ABORT', { transaction: 'drop', receipt: 'done' });
    await c.until('RECEIPT');
    c.close();
    await eventually(() => b.broker.core.connections.size === 0);
    // m1 acked by the commit; m2's ack was aborted, so it went back to the queue
    expect(queue(q)!.messageCount).toBe(1);
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    const again = await d.next();
    expect(again.body.toString()).toBe('b');
    expect(again.headers['redelivered']).toBe('true');
    d.close();
  });

  it('NACK in a transaction applies on COMMIT', async () => {
    const q = uniqueName('txnack');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SEND', { destination: `/queue/${q}` }, 'x');
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client' });
    const m = await c.next();
    c.send('BEGIN', { transaction: 't' });
    c.send('NACK', { id: m.headers['ack']!, transaction: 't' });
    expect(await c.quiet(80)).toBe(true);
    c.send('COMMIT', { transaction: 't' });
    const again = await c.next();
    expect(again.headers['redelivered']).toBe('true');
    c.close();
  });

  it('BEGIN twice with one name, and unknown transactions, are errors', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('BEGIN', { transaction: 't' });
    c.send('BEGIN', { transaction: 't' });
    expect((await c.until('ERROR')).pop()!.headers['message']).toBe('Bad transaction');
    const [d] = await RawClient.login(b.tcpPort);
    d.send('SEND', { destination: '/queue/x', transaction: 'nope' }, 'x');
    expect((await d.until('ERROR')).pop()!.body.toString()).toContain("'nope'");
    const [e] = await RawClient.login(b.tcpPort);
    e.send('ABORT', { transaction: 'nope' });
    expect((await e.until('ERROR')).pop()!.headers['message']).toBe('Bad transaction');
  });

  it('an invalid destination inside a transaction fails at SEND, not at COMMIT', async () => {
    const [c] = await RawClient.login(b.tcpPort);
    c.send('BEGIN', { transaction: 't' });
    c.send('SEND', { destination: '/nowhere/x', transaction: 't', receipt: 'r' }, 'x');
    const e = (await c.until('ERROR')).pop()!;
    expect(e.headers['message']).toBe('Unknown destination');
    expect(e.headers['receipt-id']).toBe('r');
  });
});

describe('receipts', () => {
  it('every client frame with a receipt header gets its RECEIPT, in order', async () => {
    const q = uniqueName('rcpt');
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client', receipt: 'r1' });
    c.send('SEND', { destination: `/queue/${q}`, receipt: 'r2', persistent: 'true' }, 'x');
    const frames = await c.until('RECEIPT');
    expect(frames.map((f) => f.headers['receipt-id'])).toEqual(['r1']);
    const rest = await c.until('RECEIPT');
    const message = rest.find((f) => f.command === 'MESSAGE') ?? (await c.next());
    expect(rest.pop()!.headers['receipt-id']).toBe('r2');
    c.send('ACK', { id: message.headers['ack']!, receipt: 'r3' });
    c.send('BEGIN', { transaction: 't', receipt: 'r4' });
    c.send('ABORT', { transaction: 't', receipt: 'r5' });
    c.send('UNSUBSCRIBE', { id: 's', receipt: 'r6' });
    c.send('DISCONNECT', { receipt: 'r7' });
    const ids: string[] = [];
    while (ids.length < 5) ids.push((await c.next()).headers['receipt-id']!);
    expect(ids).toEqual(['r3', 'r4', 'r5', 'r6', 'r7']);
    await c.waitClosed();
  });

  it('a SEND refused by the broker (x-overflow reject-publish) gets an ERROR, not a RECEIPT', async () => {
    const q = uniqueName('full');
    const [c] = await RawClient.login(b.tcpPort);
    const args = { 'x-max-length': '1', 'x-overflow': 'reject-publish' };
    c.send('SEND', { destination: `/queue/${q}`, ...args, receipt: 'first' }, 'fits');
    expect((await c.next()).headers['receipt-id']).toBe('first');
    c.send('SEND', { destination: `/queue/${q}`, ...args, receipt: 'second' }, 'does not fit');
    const e = await c.next();
    expect(e.command).toBe('ERROR');
    expect(e.headers['message']).toBe('Message rejected');
    expect(e.headers['receipt-id']).toBe('second');
    await c.waitClosed();
  });
});
