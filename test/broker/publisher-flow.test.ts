/**
 * Publisher flow by bytes (src/core/publisher-flow.ts) with real clients: a non-durable queue
 * whose consumer has stalled holds its publishers once its ready bytes pass
 * `queueFlowBytes` (1 MiB here), by not reading their sockets — AMQP (amqplib with confirms),
 * MQTT (MQTT.js, QoS 1) and STOMP (SEND frames on a plain socket). The queue stays under the
 * bound, the publisher is held (its confirms stop; it is not disconnected, the connection shows
 * `flow`), and once the consumer drains every message arrives, in order. A connection that
 * publishes and consumes with acks on one socket is never held, so it cannot deadlock on itself.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startStompBroker, type StompTestBroker } from '../plugins/stomp/helpers.js';

const KiB = 1024;
const BOUND = 1024 * KiB;
const BODY = 64 * KiB;
/** what may arrive past the mark before reading stops: the read in hand and what the socket buffered */
const SLACK = 4 * BODY;

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker({}, { plugins: ['amqp', 'mqtt'], broker: { queueFlowBytes: BOUND } });
});
afterAll(async () => {
  await b?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
/** Wait until `f()` has not changed for `ms`. */
async function settled(f: () => number, ms = 400): Promise<number> {
  let last = f();
  let since = Date.now();
  for (;;) {
    await sleep(25);
    const now = f();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= ms) return now;
  }
}

function readyBytes(queue: string): number {
  return b.broker.core.vhosts.get('/')!.queues.get(queue)?.readyBytes ?? 0;
}
/** The largest ready-bytes figure of `queue` seen until `stop()`. */
function watchPeak(queue: string): { peak: () => number; stop: () => void } {
  let peak = 0;
  const t = setInterval(() => (peak = Math.max(peak, readyBytes(queue))), 2);
  return { peak: () => Math.max(peak, readyBytes(queue)), stop: () => clearInterval(t) };
}
function flowingConnections(): number {
  return b.broker.core.listConnections().filter((c) => c.flow).length;
}
function body(i: number): Buffer {
  const buf = Buffer.alloc(BODY, i & 0xff);
  buf.writeUInt32BE(i, 0);
  return buf;
}

/** An AMQP consumer with prefetch `prefetch` that holds its deliveries unacked until `drain()`. */
async function stalledConsumer(conn: ChannelModel, queue: string, prefetch: number) {
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  const seen: number[] = [];
  const held: ConsumeMessage[] = [];
  let draining = false;
  await ch.consume(queue, (m) => {
    if (m === null) return;
    seen.push(m.content.readUInt32BE(0));
    if (draining) ch.ack(m);
    else held.push(m);
  });
  return {
    seen,
    drain(): void {
      draining = true;
      for (const m of held.splice(0)) ch.ack(m);
    },
  };
}

async function declare(ch: Channel, queue: string, bindTopic?: string): Promise<void> {
  await ch.assertQueue(queue, { durable: false });
  if (bindTopic !== undefined) await ch.bindQueue(queue, 'amq.topic', bindTopic);
}

describe('publisher flow by bytes', { timeout: 60_000 }, () => {
  it('AMQP: a fast publisher is held at the bound while the consumer stalls, and every message arrives once it drains', async () => {
    const sub = await amqp.connect(b.amqpUrl!);
    const pub = await amqp.connect(b.amqpUrl!);
    try {
      const queue = 'flow-amqp';
      await declare(await sub.createChannel(), queue);
      const consumer = await stalledConsumer(sub, queue, 4);
      let closed = false;
      pub.on('close', () => (closed = true));
      pub.on('error', () => (closed = true));
      const pch = await pub.createConfirmChannel();
      const total = 160; // 10 MiB
      let confirmed = 0;
      const watch = watchPeak(queue);
      for (let i = 0; i < total; i++) pch.sendToQueue(queue, body(i), {}, (err) => err === null && confirmed++);

      await until(() => consumer.seen.length === 4, 'the consumer to take its prefetch');
      const heldAt = await settled(() => confirmed);
      expect(heldAt).toBeLessThan(total); // held: the rest waits in the client and the socket
      expect(readyBytes(queue)).toBeGreaterThan(BOUND);
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(flowingConnections()).toBe(1);
      expect(closed).toBe(false);

      consumer.drain();
      await until(() => consumer.seen.length === total, 'every message to arrive');
      watch.stop();
      await until(() => confirmed === total, 'every confirm');
      expect(consumer.seen).toEqual([...Array(total).keys()]);
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(flowingConnections()).toBe(0);
      expect(closed).toBe(false);
    } finally {
      await pub.close().catch(() => undefined);
      await sub.close().catch(() => undefined);
    }
  });

  it('AMQP: a connection that publishes to the queue it consumes with acks is never held, and does not deadlock', async () => {
    const conn = await amqp.connect(b.amqpUrl!);
    try {
      const queue = 'flow-self';
      const cch = await conn.createChannel();
      await declare(cch, queue);
      await cch.prefetch(4);
      const seen: number[] = [];
      let acked = 0;
      await cch.consume(queue, (m) => {
        if (m === null) return;
        seen.push(m.content.readUInt32BE(0));
        // a slow consumer: the queue grows past the mark
        setTimeout(() => {
          cch.ack(m);
          acked++;
        }, 2);
      });
      const pch = await conn.createConfirmChannel();
      const total = 160;
      const watch = watchPeak(queue);
      for (let i = 0; i < total; i++) pch.sendToQueue(queue, body(i));
      await pch.waitForConfirms();
      await until(() => acked === total, 'every message to arrive and be acked');
      watch.stop();
      expect(seen).toEqual([...Array(total).keys()]);
      expect(watch.peak()).toBeGreaterThan(BOUND); // flow would have held a publisher without the consumer
      expect(flowingConnections()).toBe(0);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it('MQTT: a QoS 1 publisher is held (its PUBACKs stop, it stays connected) and resumes when the AMQP consumer drains', async () => {
    const sub = await amqp.connect(b.amqpUrl!);
    const client = await mqtt.connectAsync(b.mqttUrl!, { username: 'guest', password: 'guest', protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const queue = 'flow-mqtt';
      await declare(await sub.createChannel(), queue, 'flow.mqtt');
      const consumer = await stalledConsumer(sub, queue, 4);
      let closed = false;
      client.on('close', () => (closed = true));
      const total = 120;
      let acked = 0;
      const watch = watchPeak(queue);
      for (let i = 0; i < total; i++) client.publish('flow/mqtt', body(i), { qos: 1 }, (err) => !err && acked++);

      await until(() => consumer.seen.length === 4, 'the consumer to take its prefetch');
      const heldAt = await settled(() => acked);
      expect(heldAt).toBeLessThan(total);
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(flowingConnections()).toBe(1);
      expect(closed).toBe(false);

      consumer.drain();
      await until(() => consumer.seen.length === total && acked === total, 'every message and PUBACK');
      watch.stop();
      expect(consumer.seen).toEqual([...Array(total).keys()]);
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(closed).toBe(false);
      expect(flowingConnections()).toBe(0);
    } finally {
      await client.endAsync().catch(() => undefined);
      await sub.close().catch(() => undefined);
    }
  });

  it('STOMP: SEND frames stop being read at the bound and are all delivered once the consumer drains', async () => {
    const sub = await amqp.connect(b.amqpUrl!);
    const [client] = await RawClient.login(b.tcpPort);
    try {
      const queue = 'flow-stomp';
      await declare(await sub.createChannel(), queue);
      const consumer = await stalledConsumer(sub, queue, 4);
      const total = 120;
      const watch = watchPeak(queue);
      for (let i = 0; i < total; i++) {
        client.send('SEND', { destination: `/amq/queue/${queue}`, 'content-length': String(BODY), ...(i === total - 1 ? { receipt: 'last' } : {}) }, body(i));
      }
      await until(() => consumer.seen.length === 4, 'the consumer to take its prefetch');
      await settled(() => readyBytes(queue));
      expect(consumer.seen.length).toBe(4);
      expect(client.frames).toEqual([]); // the last SEND was not read: no receipt yet
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(flowingConnections()).toBe(1);
      expect(client.closed).toBe(false);

      consumer.drain();
      const frames = await client.until('RECEIPT', 20_000);
      expect(frames.map((f) => f.command)).toEqual(['RECEIPT']);
      await until(() => consumer.seen.length === total, 'every message to arrive');
      watch.stop();
      expect(consumer.seen).toEqual([...Array(total).keys()]);
      expect(watch.peak()).toBeLessThanOrEqual(BOUND + SLACK);
      expect(flowingConnections()).toBe(0);
    } finally {
      client.close();
      await sub.close().catch(() => undefined);
    }
  });
});
