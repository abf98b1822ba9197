/**
 * A body above `large_message_threshold` arriving faster than the journal writes it: the
 * connection stops being read while the journal is more than JOURNAL_BACKLOG behind
 * (src/frontend/journal-backpressure.ts), so what the broker holds of the body stays bounded
 * whatever its size, and the body then finishes intact. With real clients: stompjs over TCP
 * (SEND with a content-length and a receipt), MQTT.js (PUBLISH QoS 1, PUBACK) and amqplib
 * (publisher confirms), the journal slowed or held by test/helpers/slow-disk.ts, a 1 MiB
 * threshold and a 64 MiB body, read back by an AMQP consumer and compared by checksum.
 *
 * - A slow journal (32 MiB/s): the journal's unwritten bytes, sampled every millisecond while
 *   the body goes through, never pass the backlog bound by more than a round (without the
 *   pause they reach most of the body).
 * - A held journal: the broker reads a little past the bound and then nothing more; the client
 *   still has most of its body unsent. Released, the body finishes.
 * - A resource alarm raised while reading was paused for the journal, the journal catching up
 *   during the alarm: when the alarm clears, reading resumes and the body finishes (the
 *   publish gate holds only whole publishes, so it had nothing to resume).
 * - MQTT keep-alive, STOMP heart-beats: a connection the journal keeps from being read is not
 *   closed as silent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';
import type { Client as StompClient } from '@stomp/stompjs';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_BACKLOG } from '../../src/frontend/journal-backpressure.js';
import type { FileStore } from '../../src/store/file-store.js';
import { STORE_DEFAULTS } from '../../src/store/store-options.js';
import { SlowDisk } from '../helpers/slow-disk.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { RawClient as RawStompClient, stompjsClient } from '../plugins/stomp/helpers.js';
import { CONNECT_V4, RawClient as RawMqttClient } from '../plugins/mqtt/helpers.js';
import mqttPacket from 'mqtt-packet';

const MiB = 1024 * 1024;
const BODY = 64 * MiB;
/** what the journal may hold unwritten: the bound, a round being assembled, the part and the socket read that crossed it */
const HELD_BOUND = JOURNAL_BACKLOG + STORE_DEFAULTS.roundBytes + MiB;

let b: ThreeProtocolBroker | null = null;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  await b?.stop();
  b = null;
});

let body: Buffer | null = null;
/** 64 MiB, not all one byte (1 MiB of random bytes, each copy stamped with its index) */
function bigBody(): Buffer {
  if (body !== null) return body;
  const unit = randomBytes(MiB);
  body = Buffer.allocUnsafe(BODY);
  for (let i = 0; i < BODY / MiB; i++) {
    unit.copy(body, i * MiB);
    body.writeUInt32LE(i, i * MiB);
  }
  return body;
}
const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A publisher of one protocol: `send` resolves on its receipt / PUBACK / confirm; `unsent` is
 * what its socket still holds (null for amqplib, which keeps unsent frames in its own buffers).
 */
interface Publisher {
  send(body: Buffer): Promise<void>;
  unsent(): number | null;
}

type Protocol = 'STOMP' | 'MQTT' | 'AMQP';

async function publisher(protocol: Protocol, broker: ThreeProtocolBroker, ch: ConfirmChannel): Promise<Publisher> {
  if (protocol === 'STOMP') {
    let socket: Socket | null = null;
    const client: StompClient = await stompjsClient(broker.stompPort, {}, true);
    cleanups.push(() => client.deactivate());
    socket = (client.webSocket as unknown as { socket: Socket }).socket;
    return {
      unsent: () => socket!.writableLength,
      send: (bytes) =>
        new Promise<void>((resolve, reject) => {
          client.watchForReceipt('sent', () => resolve());
          client.onStompError = (f) => reject(new Error(`STOMP ERROR ${f.headers['message']}`));
          client.publish({ destination: '/amq/queue/bp', binaryBody: bytes, headers: { persistent: 'true', receipt: 'sent' } });
        }),
    };
  }
  if (protocol === 'MQTT') {
    const client: MqttClient = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.mqttPort, protocolVersion: 5, clientId: 'bp-pub', reconnectPeriod: 0, keepalive: 0 });
    cleanups.push(() => client.endAsync(true));
    return {
      unsent: () => (client.stream as Socket).writableLength,
      send: async (bytes) => void (await client.publishAsync('bp/in', bytes, { qos: 1 })),
    };
  }
  const conn = await amqp.connect(broker.amqpUrl());
  cleanups.push(() => conn.close());
  const pub = await conn.createConfirmChannel();
  return {
    unsent: () => null,
    send: (bytes) => new Promise<void>((resolve, reject) => pub.sendToQueue('bp', bytes, { persistent: true }, (e: unknown) => (e ? reject(e) : resolve()))),
  };
}

async function setUp(protocol: Protocol, stomp: Record<string, number> = {}): Promise<{ broker: ThreeProtocolBroker; disk: SlowDisk; journal: FileStore; pub: Publisher; conn: ChannelModel }> {
  const disk = new SlowDisk((path) => path.endsWith('.wj'));
  cleanups.push(() => disk.releaseWrites()); // a test that failed with writes held: the broker's stop needs them
  const broker = (b = await startThreeProtocols({ largeMessageThreshold: MiB, maxMessageSize: 256 * MiB, stomp }, { disk }));
  const conn = await amqp.connect(broker.amqpUrl());
  cleanups.push(() => conn.close());
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('bp', { durable: true });
  await ch.bindQueue('bp', 'amq.topic', 'bp.in');
  const pub = await publisher(protocol, broker, ch);
  const journal = broker.broker.core.vhosts.get('/')!.store!.messages as FileStore;
  return { broker, disk, journal, pub, conn };
}

/** The one message on queue bp, as an AMQP consumer gets it. */
async function consumeOne(conn: ChannelModel): Promise<Buffer> {
  const ch = await conn.createChannel();
  return new Promise<Buffer>((resolve) => void ch.consume('bp', (m) => m && resolve(m.content), { noAck: true }));
}

describe.each(['STOMP', 'MQTT', 'AMQP'] as const)('a %s body of 64 MiB faster than the journal', { timeout: 120_000 }, (protocol) => {
  it('a slow journal: its unwritten bytes stay under the backlog bound all the way, and the body arrives intact', async () => {
    const { disk, journal, pub, conn } = await setUp(protocol);
    disk.bytesPerSecond = 32 * MiB;
    const big = bigBody();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, journal.pendingBytes)), 1);
    try {
      await pub.send(big);
    } finally {
      clearInterval(sampler);
    }
    expect(disk.bytesWritten).toBeGreaterThan(BODY);
    expect(peak).toBeGreaterThan(JOURNAL_BACKLOG); // the journal really was behind
    expect(peak).toBeLessThanOrEqual(HELD_BOUND);
    expect(sha(await consumeOne(conn))).toBe(sha(big));
  });

  it('a held journal: the connection is not read past the bound, most of the body stays with the client, and it finishes once the journal writes', async () => {
    const { disk, journal, pub, conn } = await setUp(protocol);
    const big = bigBody();
    disk.holdWrites();
    let sent = false;
    const sending = pub.send(big).then(() => (sent = true));
    await until('the journal behind by the backlog bound', () => journal.pendingBytes > JOURNAL_BACKLOG);
    // a window in which a connection still being read would take far more of the body
    let peak = 0;
    const end = Date.now() + 500;
    await until('the window', () => {
      peak = Math.max(peak, journal.pendingBytes);
      return Date.now() > end;
    });
    expect(peak).toBeLessThanOrEqual(HELD_BOUND);
    if (protocol !== 'AMQP') expect(pub.unsent()).toBeGreaterThan(BODY / 2);
    expect(sent).toBe(false);
    disk.releaseWrites();
    await sending;
    expect(sha(await consumeOne(conn))).toBe(sha(big));
  });

  it('an alarm raised while the journal held the connection: reading resumes when the alarm clears, and the body finishes', async () => {
    const { broker, disk, journal, pub, conn } = await setUp(protocol);
    const alarms = broker.broker.core.alarms;
    const big = bigBody();
    disk.holdWrites();
    let sent = false;
    const sending = pub.send(big).then(() => (sent = true));
    await until('the journal behind by the backlog bound', () => journal.pendingBytes > JOURNAL_BACKLOG);
    alarms.settings.memoryHighWatermark = 2; // 2 bytes: any process is over it
    alarms.check();
    expect(alarms.blocked).toBe(true);
    // the journal catches up while the alarm is on: reading stays off
    disk.releaseWrites();
    await until('the journal caught up', () => journal.pendingBytes === 0 && disk.heldWrites === 0);
    // a window in which a connection read again would append more of the body
    const end = Date.now() + 300;
    let appended = 0;
    await until('the window', () => {
      appended = Math.max(appended, journal.pendingBytes);
      return Date.now() > end;
    });
    expect(appended).toBe(0);
    expect(sent).toBe(false);
    alarms.settings.memoryHighWatermark = 0.99;
    alarms.check();
    expect(alarms.blocked).toBe(false);
    await sending; // without the resume: the test's timeout
    expect(sent).toBe(true);
    expect(sha(await consumeOne(conn))).toBe(sha(big));
  });
});

describe('MQTT keep-alive while the journal holds a streamed body', { timeout: 60_000 }, () => {
  it('a connection not read because the journal is behind is not timed out by its keep-alive (the silence is ours)', async () => {
    const { disk, journal, conn } = await setUp('AMQP');
    const raw = await RawMqttClient.open(b!.mqttPort, 4);
    cleanups.push(() => raw.destroy());
    raw.send({ ...CONNECT_V4, clientId: 'bp-keepalive', keepalive: 1 }, 4);
    await raw.next('connack');
    const big = bigBody().subarray(0, 32 * MiB);
    disk.holdWrites();
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'bp/in', payload: big, qos: 1, messageId: 1, dup: false, retain: false }));
    await until('the journal behind by the backlog bound', () => journal.pendingBytes > JOURNAL_BACKLOG);
    // beyond 1.5 x the keep-alive of 1 s: the broker reads nothing, so the client cannot be heard
    expect(await raw.waitClosed(2500)).toBe(false);
    disk.releaseWrites();
    expect((await raw.next('puback', 30_000)).messageId).toBe(1);
    expect(sha(await consumeOne(conn))).toBe(sha(big));
  });
});

describe('STOMP heart-beats while the journal holds a streamed body', { timeout: 60_000 }, () => {
  it('a connection not read because the journal is behind is not timed out by heart-beats it cannot read (the silence is ours)', async () => {
    const { disk, journal, conn } = await setUp('AMQP', { min_heartbeat: 50 });
    const [c] = await RawStompClient.login(b!.stompPort, '1.2', { 'heart-beat': '50,0' });
    cleanups.push(() => c.socket.destroy());
    const beat = setInterval(() => c.write('\n'), 25); // queued behind the SEND on the socket
    cleanups.push(() => clearInterval(beat));
    const big = bigBody().subarray(0, 32 * MiB);
    disk.holdWrites();
    c.send('SEND', { destination: '/amq/queue/bp', persistent: 'true', 'content-length': String(big.length), receipt: 'sent' }, big);
    await until('the journal behind by the backlog bound', () => journal.pendingBytes > JOURNAL_BACKLOG);
    await new Promise((r) => setTimeout(r, 500)); // several times the 2 x 50 ms the server tolerates
    expect(c.closed).toBe(false);
    disk.releaseWrites();
    const f = await c.next(30_000);
    expect([f.command, f.headers['receipt-id']]).toEqual(['RECEIPT', 'sent']);
    expect(sha(await consumeOne(conn))).toBe(sha(big));
  });
});
