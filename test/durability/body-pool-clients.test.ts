/**
 * Recycled message bodies are never read again, seen from clients that do not behave like
 * amqplib: a raw AMQP client that stops reading (its socket paused: its unread deliveries
 * pile up in the kernel and in the broker's write queue) and acks, or gives back, delivery
 * tags whose bodies it has not read; and MQTT and STOMP consumers and publishers beside AMQP
 * ones. The body pool's poison is on (src/core/body-pool.ts): a body made reusable while a
 * socket still has it to write reaches that client as 0xDB bytes. Every body is checked in full
 * against its seed (test/helpers/seeded-bodies.ts).
 */
import amqp, { type ChannelModel } from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgReader, ArgWriter, FRAME_BODY, FRAME_HEADER, isMethod, methodFrame, type MethodId } from '../helpers/amqp-frames.js';
import { poisonBodyPool, recycledCount, recycledPast } from '../helpers/body-pool-watch.js';
import { RawAmqpClient } from '../helpers/raw-amqp-client.js';
import { SeedLedger, consumeSeeded, publishSeeded } from '../helpers/seeded-bodies.js';
import { eventually, startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { RawClient as RawStompClient } from '../plugins/stomp/helpers.js';

const M = {
  qos: [60, 10],
  qosOk: [60, 11],
  consume: [60, 20],
  consumeOk: [60, 21],
  cancel: [60, 30],
  deliver: [60, 60],
  ack: [60, 80],
  nack: [60, 120],
} as const satisfies Record<string, MethodId>;

let b: ThreeProtocolBroker;
let conn: ChannelModel;
let restorePoison: () => void;
beforeAll(async () => {
  restorePoison = poisonBodyPool();
  b = await startThreeProtocols();
  conn = await amqp.connect(b.amqpUrl());
});
afterAll(async () => {
  await conn?.close().catch(() => undefined);
  await b?.stop();
  restorePoison?.();
});

const queueOf = (name: string) => b.broker.core.vhosts.get('/')!.queues.get(name)!;

/**
 * Deliveries to a client that reads nothing stop once its socket is full (the frame writer's
 * backpressure); @returns how many were sent by then (delivery tags 1..n), once that number has
 * held for 200 ms.
 */
async function settledUnacked(queue: string): Promise<number> {
  await eventually(() => queueOf(queue).unackedCount > 0, 10_000, `deliveries from ${queue}`);
  for (let n = queueOf(queue).unackedCount, still = 0; ; ) {
    await new Promise((r) => setTimeout(r, 20));
    const now = queueOf(queue).unackedCount;
    if (now === n && ++still === 10) return n;
    if (now !== n) [n, still] = [now, 0];
  }
}

const MiB = 1024 * 1024;

/** A raw AMQP consumer on channel 1 whose socket can stop being read. */
class StalledConsumer {
  private constructor(readonly client: RawAmqpClient) {}

  static async open(queue: string, prefetch: number): Promise<StalledConsumer> {
    const client = await RawAmqpClient.openHandshaken(b.broker.address('amqp').host, b.amqpPort);
    await client.openChannel(1);
    client.send(methodFrame(1, M.qos, new ArgWriter().long(0).short(prefetch).bit(false)));
    await client.expectMethod(M.qosOk);
    client.send(methodFrame(1, M.consume, new ArgWriter().short(0).shortstr(queue).shortstr('stalled').bit(false).bit(false).bit(false).bit(false).table({})));
    client.socket.pause(); // from here on the deliveries pile up unread
    return new StalledConsumer(client);
  }

  ackUpTo(tag: number): void {
    this.client.send(methodFrame(1, M.ack, new ArgWriter().longlong(tag).bit(true)));
  }

  /** basic.cancel (no-wait) then basic.nack of every tag up to `tag`, requeue: the bodies go back to the queue unread. */
  cancelAndRequeue(tag: number): void {
    this.client.send(methodFrame(1, M.cancel, new ArgWriter().shortstr('stalled').bit(true)));
    this.client.send(methodFrame(1, M.nack, new ArgWriter().longlong(tag).bit(true).bit(true)));
  }

  /** Reads on: `count` deliveries, each body checked in full. */
  async readDeliveries(count: number, ledger: SeedLedger): Promise<void> {
    this.client.socket.resume();
    for (let n = 0; n < count; ) {
      const f = await this.client.nextFrame(10_000);
      if (isMethod(f, M.consumeOk) || isMethod(f, M.cancel)) continue;
      if (!isMethod(f, M.deliver)) throw new Error(`expected basic.deliver, got ${this.client.describe()}`);
      const header = await this.client.nextFrame(10_000);
      if (header.type !== FRAME_HEADER) throw new Error('expected a content header');
      const size = Number(new ArgReader(header.payload, 4).longlong());
      const parts: Buffer[] = [];
      for (let got = 0; got < size; ) {
        const part = await this.client.nextFrame(10_000);
        if (part.type !== FRAME_BODY) throw new Error('expected a body frame');
        parts.push(part.payload);
        got += part.payload.length;
      }
      ledger.receive(Buffer.concat(parts), `delivery ${n} to the stalled raw client`);
      n++;
    }
  }
}

describe('body pool: early acks and other protocols (poison on)', () => {
  it('a client acking tags whose bodies it has not read yet still reads them intact, while another consumer churns', async () => {
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('early', { durable: true });
    await pub.assertQueue('early.other', { durable: true });
    const mine = new SeedLedger(7_000_000);
    await publishSeeded(pub, '', 'early', mine, 16, MiB, MiB);
    const stalled = await StalledConsumer.open('early', 16);
    const sent = await settledUnacked('early');
    stalled.ackUpTo(sent); // multiple: every body it has been sent and not read
    await eventually(() => queueOf('early').unackedCount < sent, 10_000, 'the early acks settled');
    // meanwhile bodies are released and taken again on other queues
    const sub = await conn.createChannel();
    await sub.prefetch(4);
    const others = new SeedLedger(7_100_000);
    const consumed = consumeSeeded(sub, 'early.other', others, 24, (m) => sub.ack(m));
    await publishSeeded(pub, '', 'early.other', others, 24, 256 * 1024);
    await consumed;
    others.expectAllReceived();
    const before = recycledCount();
    const read = new SeedLedger(0);
    await stalled.readDeliveries(16, read);
    stalled.ackUpTo(16);
    expect(read.received.sort((a, b) => a - b)).toEqual(mine.sent);
    // once the client has read them, its acks may release the bodies
    await recycledPast(before, "the stalled client's acks, after it read its bodies");
    stalled.client.destroy();
    await pub.close();
    await sub.close();
  });

  it('bodies given back unread by a stalled client are intact for the next consumer, and for the stalled client as it reads on', async () => {
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('giveback', { durable: true });
    const sent = new SeedLedger(8_000_000);
    await publishSeeded(pub, '', 'giveback', sent, 12, MiB, MiB);
    const stalled = await StalledConsumer.open('giveback', 12);
    const given = await settledUnacked('giveback');
    stalled.cancelAndRequeue(given);
    // redelivered to amqplib, which acks each at once: none of them may be released while the stalled socket still has it to write
    const sub = await conn.createChannel();
    await sub.prefetch(4);
    const next = new SeedLedger(0);
    await consumeSeeded(sub, 'giveback', next, 12, (m) => sub.ack(m));
    expect(next.received.sort((a, b) => a - b)).toEqual(sent.sent);
    const churned = new SeedLedger(8_100_000);
    await pub.assertQueue('giveback.churn', { durable: true });
    const done = consumeSeeded(sub, 'giveback.churn', churned, 12, (m) => sub.ack(m));
    await publishSeeded(pub, '', 'giveback.churn', churned, 12, 256 * 1024);
    await done;
    const read = new SeedLedger(0);
    await stalled.readDeliveries(given, read);
    expect(read.received.sort((a, b) => a - b)).toEqual(sent.sent.slice(0, given));
    stalled.client.destroy();
    await pub.close();
    await sub.close();
  });

  it('AMQP bodies consumed over MQTT QoS 1 and STOMP (ack client), and MQTT and STOMP bodies consumed over AMQP: intact', async () => {
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    await sub.prefetch(4);
    const mqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId: 'pool-mqtt', clean: true, reconnectPeriod: 0 });
    const [stomp] = await RawStompClient.login(b.stompPort);
    try {
      // AMQP -> MQTT
      const toMqtt = new SeedLedger(9_000_000);
      const fromAmqp = new SeedLedger(0);
      const mqttGot = new Promise<void>((resolve, reject) =>
        mqttClient.on('message', (_topic, payload) => {
          try {
            fromAmqp.receive(payload, 'MQTT delivery of an AMQP body');
            if (fromAmqp.received.length === 10) resolve();
          } catch (e) {
            reject(e);
          }
        }),
      );
      await mqttClient.subscribeAsync('pool/mqtt', { qos: 1 });
      // AMQP -> STOMP, while an amqplib consumer acks (and so recycles) bodies on another queue
      await pub.assertQueue('pool.stomp', { durable: true });
      await pub.assertQueue('pool.churn', { durable: true });
      stomp.send('SUBSCRIBE', { id: '1', destination: '/amq/queue/pool.stomp', ack: 'client-individual' });
      const toStomp = new SeedLedger(9_100_000);
      const before = recycledCount();
      const churned = new SeedLedger(9_150_000);
      const churn = consumeSeeded(sub, 'pool.churn', churned, 16, (m) => sub.ack(m));
      await publishSeeded(pub, 'amq.topic', 'pool.mqtt', toMqtt, 10, 512 * 1024);
      await publishSeeded(pub, '', 'pool.stomp', toStomp, 12, 256 * 1024);
      await publishSeeded(pub, '', 'pool.churn', churned, 8, 256 * 1024);
      await mqttGot;
      fromAmqp.received.sort((a, b) => a - b);
      expect(fromAmqp.received).toEqual(toMqtt.sent);
      const stompSide = new SeedLedger(0);
      while (stompSide.received.length < 12) {
        const f = await stomp.next(10_000);
        if (f.command !== 'MESSAGE') throw new Error(`STOMP ${f.command}: ${f.body.toString()}`);
        stompSide.receive(f.body, 'STOMP delivery of an AMQP body');
        stomp.send('ACK', { id: f.headers['ack']! });
      }
      expect(stompSide.received.sort((a, b) => a - b)).toEqual(toStomp.sent);
      await recycledPast(before, 'AMQP acks on pool.churn');
      // MQTT and STOMP -> AMQP, consumed and acked while AMQP bodies are recycled on another queue
      await sub.assertQueue('pool.in', { durable: true });
      await sub.bindQueue('pool.in', 'amq.topic', 'pool.in');
      const inbound = new SeedLedger(9_200_000);
      const got = new SeedLedger(0);
      const consumed = consumeSeeded(sub, 'pool.in', got, 16, (m) => sub.ack(m));
      for (let i = 0; i < 8; i++) await mqttClient.publishAsync('pool/in', inbound.body(256 * 1024), { qos: 1 });
      for (let i = 0; i < 8; i++) {
        const body = inbound.body(256 * 1024);
        stomp.send('SEND', { destination: '/topic/pool.in', 'content-length': String(body.length), persistent: 'true' }, body);
      }
      await publishSeeded(pub, '', 'pool.churn', churned, 8, 256 * 1024);
      await churn;
      await consumed;
      expect(got.received.sort((a, b) => a - b)).toEqual(inbound.sent);
    } finally {
      await mqttClient.endAsync();
      stomp.close();
      await pub.close();
      await sub.close();
    }
  });
});
