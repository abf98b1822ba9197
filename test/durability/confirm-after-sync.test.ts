/**
 * A confirm, PUBACK, PUBREC or RECEIPT goes out only after the fdatasync covering everything
 * it acknowledges. The store's syncs wait behind a gate (test/helpers/gated-disk.ts): while a
 * sync is held, nothing that depends on it may be acknowledged; once the gate opens, it is.
 * Each case is a path that once acknowledged early; the last block turns failed syncs into
 * each protocol's negative answer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import { GatedDisk } from '../helpers/gated-disk.js';
import { RawClient } from '../plugins/stomp/helpers.js';
import { RawClient as RawMqttClient } from '../plugins/mqtt/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long an acknowledgement is given to (wrongly) arrive while its sync is held. */
const EARLY_WINDOW_MS = 150;

interface Running {
  broker: Broker;
  disk: GatedDisk;
  amqpUrl: string;
  mqttUrl: string;
  stompPort: number;
  stop(): Promise<void>;
}

async function startBroker(disk: GatedDisk): Promise<Running> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-confirm-sync-'));
  const broker = new Broker(
    {
      dataDir,
      log: { level: 'error' },
      amqp: { port: 0, host: '127.0.0.1' },
      mqtt: { port: 0, ws_port: 0, host: '127.0.0.1' },
      stomp: { port: 0, ws_port: 0, host: '127.0.0.1' },
      plugins: { management: { enabled: false } },
    },
    { disk },
  );
  try {
    await broker.start();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const port = (name: string) => broker.listeners().find((l) => l.name === name)?.port ?? 0;
  return {
    broker,
    disk,
    amqpUrl: broker.url('amqp'),
    mqttUrl: `mqtt://127.0.0.1:${port('mqtt')}`,
    stompPort: port('stomp'),
    stop: async () => {
      disk.openGate();
      try {
        await broker.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Close the gate, run `act`, and check that `acknowledged()` stays false while a sync is held. */
async function heldWhile(disk: GatedDisk, act: () => void | Promise<void>, acknowledged: () => boolean): Promise<void> {
  disk.closeGate();
  await act();
  await disk.held(1);
  await sleep(EARLY_WINDOW_MS);
  expect(acknowledged(), 'acknowledged while the fdatasync covering it was still held').toBe(false);
  disk.openGate();
}

let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++n}`;

describe('acknowledgements wait for the fdatasync of everything they cover', () => {
  let b: Running;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  const mqttClients: MqttClient[] = [];
  const stompClients: RawClient[] = [];

  beforeAll(async () => {
    b = await startBroker(new GatedDisk());
    conn = await amqp.connect(b.amqpUrl);
    ch = await conn.createConfirmChannel();
  });

  afterEach(async () => {
    b.disk.openGate();
    for (const c of stompClients.splice(0)) c.close();
    await Promise.all(mqttClients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  });

  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await b?.stop();
  });

  /** Publish persistently with a confirm; the returned flag turns true on the ack. */
  function publishTracked(queue: string, body: string, options: amqp.Options.Publish = {}): { acked: () => boolean; done: Promise<void> } {
    let acked = false;
    const done = new Promise<void>((resolve, reject) => {
      ch.sendToQueue(queue, Buffer.from(body), { persistent: true, ...options }, (err) => {
        if (err) return reject(new Error('nacked'));
        acked = true;
        resolve();
      });
    });
    return { acked: () => acked, done };
  }

  /** A durable queue whose head, dropped by the publish under test, asks for a failure reply. */
  /** A STOMP client and a durable queue, declared outside the gate (a SEND to /queue/ declares it). */
  async function stompWithQueue(prefix: string): Promise<[RawClient, string]> {
    const [c] = await RawClient.login(b.stompPort);
    stompClients.push(c);
    const queue = unique(prefix);
    c.send('SEND', { destination: `/queue/${queue}`, receipt: 'declared' }, 'warm-up');
    expect((await c.next()).headers['receipt-id']).toBe('declared');
    return [c, queue];
  }

  async function failureReplyCase(queueArgs: Record<string, unknown>): Promise<void> {
    const queue = unique('reply-on-failure');
    const replies = unique('replies');
    await ch.assertQueue(replies, { durable: false, exclusive: true });
    await ch.assertQueue(queue, { durable: true, arguments: queueArgs });
    const headers = { 'x-reply-on-failure': true };
    const first = publishTracked(queue, 'first', { replyTo: replies, headers });
    await first.done;
    let second!: ReturnType<typeof publishTracked>;
    await heldWhile(
      b.disk,
      () => {
        second = publishTracked(queue, 'second', { replyTo: replies, headers });
      },
      () => second.acked(),
    );
    await second.done;
    // the path really ran: the dropped (or expired) message's failure reply arrived
    const reply = await ch.get(replies, { noAck: true });
    expect(reply && reply.properties.headers?.['x-failure']).toBeTruthy();
    await ch.deleteQueue(queue);
  }

  it('AMQP: a persistent publish whose drop-head eviction sends an x-reply-on-failure reply is confirmed after its sync', async () => {
    await failureReplyCase({ 'x-max-length': 1, 'x-overflow': 'drop-head' });
  });

  it('AMQP: a persistent publish that expires at once (TTL 0) with x-reply-on-failure is confirmed after its sync', async () => {
    const queue = unique('ttl0');
    const replies = unique('replies');
    await ch.assertQueue(replies, { durable: false, exclusive: true });
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-message-ttl': 0 } });
    let p!: ReturnType<typeof publishTracked>;
    await heldWhile(
      b.disk,
      () => {
        p = publishTracked(queue, 'expires', { replyTo: replies, headers: { 'x-reply-on-failure': true } });
      },
      () => p.acked(),
    );
    await p.done;
    const reply = await ch.get(replies, { noAck: true });
    expect(reply && reply.properties.headers?.['x-failure']).toBe('expired');
  });

  it('AMQP: a persistent publish to a durable queue and a stream is confirmed after both syncs', async () => {
    const x = unique('fan');
    const queue = unique('classic');
    const stream = unique('stream');
    await ch.assertExchange(x, 'fanout', { durable: true });
    await ch.assertQueue(queue, { durable: true });
    await ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await ch.bindQueue(queue, x, '');
    await ch.bindQueue(stream, x, '');
    let acked = false;
    let done!: Promise<void>;
    await heldWhile(
      b.disk,
      () => {
        done = new Promise<void>((resolve, reject) =>
          ch.publish(x, '', Buffer.from('both'), { persistent: true }, (err) => (err ? reject(err) : ((acked = true), resolve()))),
        );
      },
      () => acked,
    );
    await done;
  });

  it('AMQP: a transient publish to a quorum queue (which stores every message) is confirmed after its sync', async () => {
    const queue = unique('quorum');
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    let p!: ReturnType<typeof publishTracked>;
    await heldWhile(
      b.disk,
      () => {
        p = publishTracked(queue, 'transient but kept', { persistent: false });
      },
      () => p.acked(),
    );
    await p.done;
  });

  it('AMQP: a persistent publish held by a durable delayed exchange is confirmed after its sync', async () => {
    const x = unique('delayed');
    await ch.assertExchange(x, 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
    const queue = unique('delayed-target');
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, x, 'k');
    let acked = false;
    let done!: Promise<void>;
    await heldWhile(
      b.disk,
      () => {
        done = new Promise<void>((resolve, reject) =>
          ch.publish(x, 'k', Buffer.from('later'), { persistent: true, headers: { 'x-delay': 60_000 } }, (err) => (err ? reject(err) : ((acked = true), resolve()))),
        );
      },
      () => acked,
    );
    await done;
  });

  for (const second of ['transient', 'unroutable'] as const) {
    it(`STOMP: the COMMIT receipt of a persistent SEND followed by a ${second} SEND comes after the sync`, async () => {
      const [c, queue] = await stompWithQueue('stomp-tx');
      await heldWhile(
        b.disk,
        () => {
          c.send('BEGIN', { transaction: 'tx1' });
          c.send('SEND', { destination: `/queue/${queue}`, transaction: 'tx1', persistent: 'true' }, 'durable one');
          if (second === 'transient') c.send('SEND', { destination: `/queue/${queue}`, transaction: 'tx1' }, 'transient one');
          else c.send('SEND', { destination: '/exchange/amq.direct/nobody-binds-this', transaction: 'tx1' }, 'unroutable one');
          c.send('COMMIT', { transaction: 'tx1', receipt: 'committed' });
        },
        () => c.frames.length > 0,
      );
      const f = await c.next();
      expect(f.command).toBe('RECEIPT');
      expect(f.headers['receipt-id']).toBe('committed');
    });
  }

  it('STOMP: receipts of SENDs outside a transaction go out in order, a persistent SEND receipt after its sync', async () => {
    const [c, queue] = await stompWithQueue('stomp-send');
    await heldWhile(
      b.disk,
      () => {
        c.send('SEND', { destination: `/queue/${queue}`, persistent: 'true', receipt: 'r1' }, 'durable');
        c.send('SEND', { destination: `/queue/${queue}`, receipt: 'r2' }, 'transient');
      },
      () => c.frames.length > 0,
    );
    expect((await c.next()).headers['receipt-id']).toBe('r1');
    expect((await c.next()).headers['receipt-id']).toBe('r2');
  });

  for (const qos of [1, 2] as const) {
    it(`MQTT: a retained QoS ${qos} publish is ${qos === 1 ? 'PUBACKed' : 'PUBRECed'} after the retained store's sync`, async () => {
      const client = await mqtt.connectAsync(b.mqttUrl, { reconnectPeriod: 0, protocolVersion: 5, clientId: unique('retainer') });
      mqttClients.push(client);
      const topic = `retained/${unique('t')}`;
      // the retained stream exists before the gate closes
      await client.publishAsync(`${topic}/warm-up`, 'x', { qos: 1, retain: true });
      let acked = false;
      let done!: Promise<unknown>;
      await heldWhile(
        b.disk,
        () => {
          done = client.publishAsync(topic, 'kept', { qos, retain: true }).then(() => (acked = true));
        },
        () => acked,
      );
      await done;
      expect(acked).toBe(true);
    });
  }

  it('MQTT: a QoS 2 PUBLISH resent on a new connection is PUBRECed only after the first copy is synced, and routed once', async () => {
    const queue = unique('qos2-resend');
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, 'amq.topic', `${queue}.in`);
    const port = Number(new URL(b.mqttUrl).port);
    const clientId = unique('qos2');
    const connect = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: false, keepalive: 0 } as const;
    const publish = { cmd: 'publish', topic: `${queue}/in`, payload: Buffer.from('exactly once'), qos: 2, messageId: 7, retain: false, dup: false } as const;
    const first = await RawMqttClient.open(port, 4);
    first.send(connect);
    await first.next('connack');
    b.disk.closeGate();
    first.send(publish);
    await b.disk.held(1);
    // the connection ends before the first copy's sync: its confirm never comes
    first.destroy();
    await sleep(50);
    const second = await RawMqttClient.open(port, 4);
    try {
      second.send(connect);
      expect((await second.next('connack')).sessionPresent).toBe(true);
      second.send({ ...publish, dup: true });
      await sleep(EARLY_WINDOW_MS);
      expect(second.packets.some((p) => p.cmd === 'pubrec'), 'PUBREC while the first copy was not yet synced').toBe(false);
      b.disk.openGate();
      expect((await second.next('pubrec')).messageId).toBe(7);
      second.send({ cmd: 'pubrel', messageId: 7 });
      await second.next('pubcomp');
      expect((await ch.checkQueue(queue)).messageCount).toBe(1);
    } finally {
      second.destroy();
      await ch.deleteQueue(queue);
    }
  });
});

/** The real disk whose held syncs fail when let through: a write the store cannot make durable. */
class FailingSyncDisk extends GatedDisk {
  failing = false;

  override gate(sync: () => Promise<void>): Promise<void> {
    return super.gate(async () => {
      if (this.failing) throw Object.assign(new Error('EIO: simulated fdatasync failure'), { code: 'EIO' });
      await sync();
    });
  }
}

describe('a failed fdatasync is a negative answer in every protocol', () => {
  let b: Running | undefined;
  afterEach(async () => {
    await b?.stop();
    b = undefined;
  });

  it('AMQP basic.nack, MQTT 5 PUBACK 0x80, MQTT 3.1.1 disconnect, STOMP ERROR carrying the receipt id', async () => {
    const disk = new FailingSyncDisk();
    b = await startBroker(disk);
    const conn = await amqp.connect(b.amqpUrl);
    conn.on('error', () => {});
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    const queue = unique('fails');
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, 'amq.topic', 'fail.*');
    const [stomp] = await RawClient.login(b.stompPort);
    const v5 = await mqtt.connectAsync(b.mqttUrl, { reconnectPeriod: 0, protocolVersion: 5, clientId: unique('v5') });
    const v4 = await mqtt.connectAsync(b.mqttUrl, { reconnectPeriod: 0, protocolVersion: 4, clientId: unique('v4') });
    v4.on('error', () => {});
    try {
      disk.closeGate();
      const amqpAnswer = new Promise<string>((resolve) => ch.sendToQueue(queue, Buffer.from('a'), { persistent: true }, (err) => resolve(err ? 'nack' : 'ack')));
      const v5Answer = v5.publishAsync('fail/v5', 'm', { qos: 1 }).then(
        () => 'ack',
        (e: { code?: number }) => `reason ${e.code}`,
      );
      let v4Acked = false;
      void v4.publishAsync('fail/v4', 'm', { qos: 1 }).then(() => (v4Acked = true), () => undefined);
      const v4Closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
      stomp.send('SEND', { destination: '/exchange/amq.topic/fail.stomp', persistent: 'true', receipt: 'stored?' }, 's');
      await disk.held(1);
      await sleep(EARLY_WINDOW_MS);
      disk.failing = true;
      disk.openGate();
      expect(await amqpAnswer).toBe('nack');
      expect(await v5Answer).toBe(`reason ${0x80}`);
      await v4Closed;
      expect(v4Acked).toBe(false);
      const frames = await stomp.until('ERROR');
      const error = frames[frames.length - 1];
      expect(frames.some((f) => f.command === 'RECEIPT')).toBe(false);
      expect(error.headers['receipt-id']).toBe('stored?');
      expect(error.headers['message']).toBe('Message not stored');
    } finally {
      stomp.close();
      await v5.endAsync(true).catch(() => undefined);
      await v4.endAsync(true).catch(() => undefined);
      await conn.close().catch(() => undefined);
    }
  });
});
