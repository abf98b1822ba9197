/**
 * Resource alarms over STOMP: while the core's alarm is on, a connection that
 * SENDs is held (not read) while consumers keep draining and acking; when it clears, every
 * held frame is processed in order and every receipt arrives. Past the alarm deadline the
 * held publishes fail explicitly: an ERROR frame naming the receipt, then close. The alarm is
 * raised with a 2-byte memory watermark, as the AMQP alarm tests do.
 */
import type { Client } from '@stomp/stompjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, RawClient, startStompBroker, stompjsClient, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
const raws: RawClient[] = [];
const stompjs: Client[] = [];
beforeEach(async () => {
  b = await startStompBroker();
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  for (const c of stompjs.splice(0)) await c.deactivate();
  await b.stop();
});

function raiseAlarm(): void {
  b.broker.core.alarms.settings.memoryHighWatermark = 2;
  b.broker.core.alarms.check();
}
function clearAlarm(): void {
  b.broker.core.alarms.settings.memoryHighWatermark = 0.99;
  b.broker.core.alarms.check();
}

async function login(extra: Record<string, string> = {}): Promise<RawClient> {
  const [c] = await RawClient.login(b.tcpPort, '1.2', extra);
  raws.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A publisher over raw TCP or stompjs over WebSocket, counting the receipts it gets. */
interface Publisher {
  send(destination: string, body: string, receipt: string): void;
  readonly receipts: string[];
}

async function publisher(transport: 'TCP' | 'WebSocket'): Promise<Publisher> {
  const receipts: string[] = [];
  if (transport === 'TCP') {
    const c = await login();
    c.socket.on('data', () => {
      for (let f = c.frames.shift(); f; f = c.frames.shift()) if (f.command === 'RECEIPT') receipts.push(f.headers['receipt-id']!);
    });
    return { receipts, send: (destination, body, receipt) => c.send('SEND', { destination, receipt }, body) };
  }
  const client = await stompjsClient(b.wsPort);
  stompjs.push(client);
  return {
    receipts,
    send: (destination, body, receipt) => {
      client.watchForReceipt(receipt, () => receipts.push(receipt));
      client.publish({ destination, body, headers: { receipt } });
    },
  };
}

describe.each(['TCP', 'WebSocket'] as const)('an alarm cycle, publisher over %s', (transport) => {
  it('holds the publisher, lets an acking consumer drain, then processes every held SEND in order with its receipt', async () => {
    const q = uniqueName('alarm');
    const pub = await publisher(transport);
    for (let i = 0; i < 5; i++) pub.send(`/queue/${q}`, `before${i}`, `b${i}`);
    await eventually(() => pub.receipts.length === 5, 3000, 'receipts before the alarm');

    raiseAlarm();
    for (let i = 0; i < 10; i++) pub.send(`/queue/${q}`, `during${i}`, `d${i}`);
    // one unacked message at a time: draining needs the consumer's ACKs to be read
    const consumer = await login();
    consumer.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', ack: 'client-individual', 'prefetch-count': '1' });
    const got: string[] = [];
    const drain = async (n: number) => {
      while (got.length < n) {
        const m = await consumer.next();
        expect(m.command).toBe('MESSAGE');
        got.push(m.body.toString());
        consumer.send('ACK', { id: m.headers['ack']! });
      }
    };
    await drain(5);
    await sleep(200);
    expect(got).toEqual(['before0', 'before1', 'before2', 'before3', 'before4']);
    expect(pub.receipts).toHaveLength(5);

    clearAlarm();
    await drain(15);
    await eventually(() => pub.receipts.length === 15, 3000, 'receipts after the alarm');
    expect(got.slice(5)).toEqual(Array.from({ length: 10 }, (_, i) => `during${i}`));
    expect(pub.receipts.slice(5)).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
  });
});

describe('the alarm deadline', () => {
  it('ends a held publisher with an ERROR naming the receipt of the held SEND; nothing held is published', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 150;
    const q = uniqueName('deadline');
    const c = await login();
    c.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', receipt: 'sub' }); // declares the queue
    expect((await c.next()).headers['receipt-id']).toBe('sub');
    c.send('UNSUBSCRIBE', { id: 's', receipt: 'unsub' });
    expect((await c.next()).headers['receipt-id']).toBe('unsub');
    raiseAlarm();
    const t0 = Date.now();
    // both in one write: the second was read with the first, so it is held too
    c.write(`SEND\ndestination:/queue/${q}\nreceipt:r-1\n\none\0SEND\ndestination:/queue/${q}\nreceipt:r-2\n\ntwo\0`);
    const error = await c.next(2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(error.command).toBe('ERROR');
    expect(error.headers['message']).toBe('Resource alarm');
    expect(error.headers['receipt-id']).toBe('r-1');
    expect(error.body.toString()).toMatch(/resource alarm \(low on memory\).*receipts: r-1, r-2/);
    await c.waitClosed();
    clearAlarm();
    await sleep(50);
    expect(b.broker.core.vhosts.get('/')!.queues.get(q)?.messageCount).toBe(0);
  });

  it('a held connection is not timed out by heart-beats it cannot read (the silence is ours)', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 0; // hold until the alarm clears
    const q = uniqueName('beats');
    const c = await login({ 'heart-beat': '50,0' });
    const beat = setInterval(() => c.write('\n'), 25);
    try {
      raiseAlarm();
      c.send('SEND', { destination: `/queue/${q}`, receipt: 'held' }, 'x');
      await sleep(500); // several times the 2 × 50 ms the server tolerates
      expect(c.closed).toBe(false);
      clearAlarm();
      const f = await c.next();
      expect([f.command, f.headers['receipt-id']]).toEqual(['RECEIPT', 'held']);
    } finally {
      clearInterval(beat);
    }
  });
});
