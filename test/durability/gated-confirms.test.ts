/**
 * No confirm before its fdatasync, on every publish path of every protocol, with the real
 * disk: the store's file syncs are held behind a gate (test/helpers/gated-disk.ts). Each case
 * publishes with the gate closed, waits until a sync is held and then long enough that an
 * early confirm would have arrived, asserts none did, opens the gate, and asserts every
 * confirm arrives. (SIGKILL crash tests cannot see this: the page cache survives them.)
 */
import amqp, { type ConfirmChannel } from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatedDisk } from '../helpers/gated-disk.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { RawClient } from '../plugins/stomp/helpers.js';

/** long enough, on a loaded machine, for an early confirm to arrive */
const EARLY_WINDOW_MS = 400;

let b: ThreeProtocolBroker;
const disk = new GatedDisk();
let conn: amqp.ChannelModel;
let n = 0;
const unique = (p: string): string => `${p}-${++n}`;

beforeAll(async () => {
  b = await startThreeProtocols({}, { disk });
  conn = await amqp.connect(b.amqpUrl());
});
afterEach(() => disk.openGate());
afterAll(async () => {
  disk.openGate();
  await conn.close().catch(() => undefined);
  await b.stop();
});

/** Close the gate, run `publish` (which counts confirms into the returned getter), check none comes early, open, check all come. */
async function gated(expected: number, publish: () => Promise<() => number>): Promise<void> {
  disk.closeGate();
  const confirmed = await publish();
  await disk.held(1);
  await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
  expect(confirmed(), 'confirms seen while the fdatasync was held').toBe(0);
  disk.openGate();
  const deadline = Date.now() + 10_000;
  while (confirmed() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(confirmed()).toBe(expected);
}

async function confirmChannel(): Promise<ConfirmChannel> {
  return conn.createConfirmChannel();
}

/** Publish `count` persistent messages with `send`, counting acks (a nack fails the test). */
function counting(count: number, send: (i: number, cb: (err: unknown) => void) => void): () => number {
  let acks = 0;
  for (let i = 0; i < count; i++) {
    send(i, (err) => {
      if (err) throw new Error('nacked');
      acks++;
    });
  }
  return () => acks;
}

describe('AMQP publisher confirms wait for the fdatasync', () => {
  it('classic queue', async () => {
    const ch = await confirmChannel();
    const q = unique('classic');
    await ch.assertQueue(q, { durable: true });
    await gated(3, async () => counting(3, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, cb)));
  });

  it('priority queue', async () => {
    const ch = await confirmChannel();
    const q = unique('priority');
    await ch.assertQueue(q, { durable: true, maxPriority: 10 });
    await gated(3, async () => counting(3, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true, priority: i * 3 }, cb)));
  });

  it('stream', async () => {
    const ch = await confirmChannel();
    const q = unique('stream');
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await gated(3, async () => counting(3, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, cb)));
  });

  it('delayed-message exchange', async () => {
    const ch = await confirmChannel();
    const x = unique('delayed');
    const q = unique('delayed-target');
    await ch.assertExchange(x, 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, x, 'k');
    await gated(2, async () => counting(2, (i, cb) => ch.publish(x, 'k', Buffer.from(`m${i}`), { persistent: true, headers: { 'x-delay': 60_000 } }, cb)));
  });

  it('dead-lettered on arrival (x-message-ttl 0)', async () => {
    const ch = await confirmChannel();
    const q = unique('ttl0');
    const dlq = unique('dlq');
    await ch.assertQueue(dlq, { durable: true });
    await ch.assertQueue(q, { durable: true, arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    await gated(2, async () => counting(2, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, cb)));
  });

  it('x-reply-on-failure: a request dropped by a full queue is answered at a durable reply queue', async () => {
    const ch = await confirmChannel();
    const q = unique('rpc-full');
    const replies = unique('replies');
    await ch.assertQueue(replies, { durable: true });
    await ch.assertQueue(q, { durable: true, maxLength: 1, arguments: { 'x-reply-on-failure': true } });
    await ch.sendToQueue(q, Buffer.from('first'), { persistent: true, replyTo: replies, correlationId: 'c0' });
    await ch.waitForConfirms();
    await gated(1, async () => counting(1, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true, replyTo: replies, correlationId: `c${i + 1}` }, cb)));
  });

  it('overflow drop-head into a dead-letter queue', async () => {
    const ch = await confirmChannel();
    const q = unique('full');
    const dlq = unique('overflow-dlq');
    await ch.assertQueue(dlq, { durable: true });
    await ch.assertQueue(q, { durable: true, maxLength: 1, arguments: { 'x-overflow': 'drop-head', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    await gated(3, async () => counting(3, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, cb)));
  });

  it('overflow drop-head, the dropped head dead-lettered into a transient queue (the new message is still durable)', async () => {
    const ch = await confirmChannel();
    const q = unique('full-transient-dlx');
    const dlq = unique('transient-dlq');
    await ch.assertQueue(dlq, { durable: false });
    await ch.assertQueue(q, { durable: true, maxLength: 1, arguments: { 'x-overflow': 'drop-head', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    await ch.sendToQueue(q, Buffer.from('head'), { persistent: true });
    await ch.waitForConfirms();
    await gated(2, async () => counting(2, (i, cb) => ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, cb)));
  });
});

describe('MQTT acknowledgements wait for the fdatasync', () => {
  async function mqttClient(version: 4 | 5): Promise<mqtt.MqttClient> {
    return mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { protocolVersion: version, clientId: unique('gated'), reconnectPeriod: 0 });
  }

  /** a durable queue bound to the MQTT topic, so the publish is stored */
  async function durableSubscriberQueue(topic: string): Promise<void> {
    const ch = await conn.createChannel();
    const q = unique('mqtt-q');
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, 'amq.topic', topic.replaceAll('/', '.'));
    await ch.close();
  }

  /** PUBACK (QoS 1) or PUBREC (QoS 2) packets received */
  function acks(c: mqtt.MqttClient, cmd: 'puback' | 'pubrec'): () => number {
    let k = 0;
    c.on('packetreceive', (p) => {
      if (p.cmd === cmd) k++;
    });
    return () => k;
  }

  for (const version of [4, 5] as const) {
    it(`QoS 1 PUBACK (MQTT ${version === 4 ? '3.1.1' : '5'})`, async () => {
      const c = await mqttClient(version);
      const topic = unique('gated/qos1');
      await durableSubscriberQueue(topic);
      const count = acks(c, 'puback');
      await gated(2, async () => {
        c.publish(topic, 'a', { qos: 1 });
        c.publish(topic, 'b', { qos: 1 });
        return count;
      });
      await c.endAsync();
    });

    it(`QoS 2 PUBREC (MQTT ${version === 4 ? '3.1.1' : '5'})`, async () => {
      const c = await mqttClient(version);
      const topic = unique('gated/qos2');
      await durableSubscriberQueue(topic);
      const count = acks(c, 'pubrec');
      await gated(2, async () => {
        c.publish(topic, 'a', { qos: 2 });
        c.publish(topic, 'b', { qos: 2 });
        return count;
      });
      await c.endAsync();
    });
  }

  it('retained QoS 1 PUBACK (the retained store is durable too)', async () => {
    const c = await mqttClient(5);
    const topic = unique('gated/retained');
    const count = acks(c, 'puback');
    await gated(1, async () => {
      c.publish(topic, 'kept', { qos: 1, retain: true });
      return count;
    });
    await c.endAsync();
  });
});

describe('STOMP receipts wait for the fdatasync', () => {
  async function stompQueue(): Promise<string> {
    const ch = await conn.createChannel();
    const q = unique('stomp-q');
    await ch.assertQueue(q, { durable: true });
    await ch.close();
    return `/amq/queue/${q}`;
  }

  function receipts(c: RawClient): () => number {
    return () => c.frames.filter((f) => f.command === 'RECEIPT').length;
  }

  it('SEND with a receipt', async () => {
    const [c] = await RawClient.login(b.stompPort);
    const destination = await stompQueue();
    await gated(2, async () => {
      c.send('SEND', { destination, persistent: 'true', receipt: 's1' }, 'a');
      c.send('SEND', { destination, persistent: 'true', receipt: 's2' }, 'b');
      return receipts(c);
    });
    c.socket.destroy();
  });

  it('transaction COMMIT with a receipt', async () => {
    const [c] = await RawClient.login(b.stompPort);
    const destination = await stompQueue();
    await gated(1, async () => {
      c.send('BEGIN', { transaction: 't1' });
      c.send('SEND', { destination, persistent: 'true', transaction: 't1' }, 'a');
      c.send('SEND', { destination, persistent: 'true', transaction: 't1' }, 'b');
      c.send('COMMIT', { transaction: 't1', receipt: 'c1' });
      return receipts(c);
    });
    c.socket.destroy();
  });
});
