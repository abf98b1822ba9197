/**
 * A persistent session is whole again after a restart — a clean stop, and a killed process
 * (SIGKILL of the compiled CLI, as the durability tests do): shared subscriptions, `$stream/`
 * subscriptions, the packet identifiers of QoS 1/2 deliveries in flight, QoS 2 flows waiting for
 * PUBCOMP (outbound) or PUBREL (inbound), and wills waiting out their Will Delay. Real clients:
 * MQTT.js, a raw MQTT client for the packet-level flows, amqplib for the stream queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker } from './helpers.js';
import { freePortsEnv } from '../../helpers/free-ports-env.js';
import { until } from '../../helpers/free-port.js';

/** A broker on a data directory that a test restarts. */
interface Harness {
  mqttPort: number;
  amqpUrl: string;
  dataDir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** In-process, restarted by a clean stop (Broker.stop, then a new Broker on the same directory). */
async function inProcess(mqtt: Record<string, number> = {}): Promise<Harness> {
  const b = await startMqttBroker(mqtt, { amqp: true });
  const h: Harness = {
    mqttPort: b.tcpPort,
    amqpUrl: b.amqpUrl!,
    dataDir: b.broker.core.dataDir!,
    restart: async () => {
      await b.restart();
      h.mqttPort = b.tcpPort;
      h.amqpUrl = b.amqpUrl!;
    },
    stop: () => b.stop(),
  };
  return h;
}

const cli = join(inject('buildDir'), 'src', 'cli.js');

/** Every listener on an OS-chosen loopback port (test/helpers/free-ports-env.ts). */
let freePorts: Record<string, string> = {};
beforeAll(async () => {
  freePorts = await freePortsEnv();
});

/** The compiled CLI as a child process, restarted by SIGKILL and a new process on the same directory. */
async function childProcess(mqtt: Record<string, number> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-mqtt-kill-'));
  let child: ChildProcess | null = null;
  const start = async (): Promise<{ mqtt: number; amqp: number }> => {
    const c = spawn(
      process.execPath,
      [cli, 'start', '--data-dir', dataDir, '--log.format', 'json', ...Object.entries(mqtt).flatMap(([k, v]) => [`--mqtt.${k}`, String(v)])],
      {
        env: { PATH: process.env.PATH ?? '', ...freePorts },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child = c;
    let err = '';
    c.stderr!.on('data', (d) => (err += d));
    // a kill -9 restart on a loaded 2-core machine: the clean-clone run at load 35 took over 15 s
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; listeners?: { name: string; port: number }[] })
        .find((l) => l.msg === 'broker started');
      if (started) {
        const port = (name: string) => started.listeners!.find((l) => l.name === name)!.port;
        return { mqtt: port('mqtt'), amqp: port('amqp') };
      }
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`broker did not start:\n${err}`);
      await sleep(20);
    }
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  };
  const ports = await start();
  const h: Harness = {
    mqttPort: ports.mqtt,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
    dataDir,
    restart: async () => {
      // what the broker wrote behind (session records: one batch at the end of each event-loop
      // turn) is committed once it has answered two more round trips
      await roundTrips(h.mqttPort);
      await kill();
      const p = await start();
      h.mqttPort = p.mqtt;
      h.amqpUrl = `amqp://guest:guest@127.0.0.1:${p.amqp}`;
    },
    stop: async () => {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** A CONNECT and a PINGREQ answered: the broker has finished the event-loop turns before them. */
async function roundTrips(port: number): Promise<void> {
  const r = await RawClient.open(port, 4);
  try {
    r.send({ ...CONNECT_V4, clientId: 'sr-round-trip' });
    await r.next('connack', 10_000);
    r.send({ cmd: 'pingreq' });
    await r.next('pingresp', 10_000);
  } finally {
    r.destroy();
  }
}

/** Rows of a table in one of the broker's SQLite files (read only, beside the running broker). */
function rowsOf(file: string, sql: string): unknown[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

let harness: Harness | null = null;
const clients: Clients[] = [];
const raws: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.closeAll();
  for (const r of raws.splice(0)) r.destroy();
  await harness?.stop();
  harness = null;
});

const mqttClients = (h: Harness): Clients => {
  const c = new Clients(`mqtt://127.0.0.1:${h.mqttPort}`);
  clients.push(c);
  return c;
};

async function raw(h: Harness, version: 4 | 5, connect: object): Promise<RawClient> {
  const r = await RawClient.open(h.mqttPort, version);
  raws.push(r);
  r.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), ...connect } as never, version);
  return r;
}

// A case starts a broker and restarts it (after kill -9: a new process, which takes seconds on
// a loaded 2-core machine); how long that takes is not what is tested here.
describe.each([
  ['a clean stop', inProcess],
  ['kill -9', childProcess],
] as const)('after %s', { timeout: 60_000 }, (_name, make) => {
  const persistent5 = (clientId: string) => ({ clientId, protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } });

  it('shared and $stream/ subscriptions come back with the session', async () => {
    const h = (harness = await make());
    const conn = await amqp.connect(h.amqpUrl);
    const ch = await conn.createChannel();
    await ch.assertQueue('sr-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await ch.bindQueue('sr-stream', 'amq.topic', 'srs.#');
    await conn.close();

    const before = mqttClients(h);
    const c = await before.connect(persistent5('sr-shared'));
    const first = new Inbox(c);
    await c.subscribeAsync('$share/grp/sr/+', { qos: 1, properties: { subscriptionIdentifier: 5 } });
    await c.subscribeAsync('$stream@first/sr-stream/srs/#', { qos: 1, properties: { subscriptionIdentifier: 6 } });
    const pub = await before.connect({ clientId: 'sr-pub', protocolVersion: 5 });
    await pub.publishAsync('srs/a', 'stream before', { qos: 1 });
    await first.waitFor(1);
    // its ack is the consumer's stored offset, saved about once a second (docs/streams.md): a
    // kill sooner would replay it, which streams allow (at-least-once). The only named consumer
    // here is this subscription, and a row is written only for an acknowledged offset.
    await until('the stream offset saved in meta.db', () => rowsOf(join(h.dataDir, 'meta.db'), 'SELECT committed FROM stream_offsets').length > 0, 10_000, 50);

    await h.restart();
    const after = mqttClients(h);
    const [, connack, inbox] = await after.connectWithConnack(persistent5('sr-shared'));
    expect(connack.sessionPresent).toBe(true);
    const pub2 = await after.connect({ clientId: 'sr-pub2', protocolVersion: 5 });
    await pub2.publishAsync('sr/x', 'shared after', { qos: 1 });
    await pub2.publishAsync('srs/b', 'stream after', { qos: 1 });
    // a last message on each subscription: whatever else either delivers comes before it
    await pub2.publishAsync('sr/end', 'shared end', { qos: 1 });
    await pub2.publishAsync('srs/end', 'stream end', { qos: 1 });
    await inbox.waitFor(4);
    const got = inbox.messages.map((m) => [m.payload, m.packet.properties?.subscriptionIdentifier]).sort();
    // the stream subscription resumes after what it had acknowledged
    expect(got).toEqual([
      ['shared after', 5],
      ['shared end', 5],
      ['stream after', 6],
      ['stream end', 6],
    ]);
  });

  it('a QoS 1 delivery in flight is sent again with its packet identifier and dup set (MQTT-4.4.0-1)', async () => {
    const h = (harness = await make());
    const r = await raw(h, 4, { clientId: 'sr-inflight', clean: false });
    await r.next('connack');
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sr/q1', qos: 1 }] });
    await r.next('suback');
    const pub = await mqttClients(h).connect({ clientId: 'sr-q1-pub' });
    // three acknowledged first, so the identifiers in flight are not the ones a new connection starts with
    for (let i = 0; i < 3; i++) {
      await pub.publishAsync('sr/q1', `acked ${i}`, { qos: 1 });
      r.send({ cmd: 'puback', messageId: (await r.next('publish')).messageId });
    }
    await pub.publishAsync('sr/q1', 'one', { qos: 1 });
    await pub.publishAsync('sr/q1', 'two', { qos: 1 });
    const p1 = await r.next('publish');
    const p2 = await r.next('publish');
    expect([p1.messageId, p2.messageId]).toEqual([4, 5]);
    // not acknowledged: in flight at the restart
    await h.restart();

    const again = await raw(h, 4, { clientId: 'sr-inflight', clean: false });
    expect((await again.next('connack', 5000)).sessionPresent).toBe(true);
    const q1 = await again.next('publish', 5000);
    const q2 = await again.next('publish', 5000);
    expect([q1.payload.toString(), q1.messageId, q1.dup]).toEqual(['one', p1.messageId, true]);
    expect([q2.payload.toString(), q2.messageId, q2.dup]).toEqual(['two', p2.messageId, true]);
  });

  // a 3.1.1 session that never expires is not written again when its device comes back (only
  // its disconnect time would change): what it had in flight, and what the resumed connection
  // gets in flight, must still come back after the restart; the default expiry (a day) too
  it.each([4294967295, 86400])('a device back on a new connection before the restart: its deliveries in flight, old and new, are sent again (session expiry %s s)', async (expiry) => {
    const h = (harness = await make({ max_session_expiry_interval_seconds: expiry }));
    const first = await raw(h, 4, { clientId: 'sr-back', clean: false });
    await first.next('connack');
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sr/back', qos: 1 }] });
    await first.next('suback');
    const pub = await mqttClients(h).connect({ clientId: 'sr-back-pub' });
    await pub.publishAsync('sr/back', 'one', { qos: 1 });
    const p1 = await first.next('publish');
    first.destroy(); // gone without DISCONNECT, 'one' unacknowledged
    await sleep(200);

    const back = await raw(h, 4, { clientId: 'sr-back', clean: false });
    expect((await back.next('connack')).sessionPresent).toBe(true);
    const resent = await back.next('publish', 5000);
    expect([resent.payload.toString(), resent.messageId, resent.dup]).toEqual(['one', p1.messageId, true]);
    await pub.publishAsync('sr/back', 'two', { qos: 1 });
    const p2 = await back.next('publish');
    // neither acknowledged: both in flight at the restart
    await h.restart();

    const again = await raw(h, 4, { clientId: 'sr-back', clean: false });
    expect((await again.next('connack', 5000)).sessionPresent).toBe(true);
    const got = [await again.next('publish', 5000), await again.next('publish', 5000)].map((p) => [p.payload.toString(), p.messageId, p.dup]);
    expect(got).toEqual([
      ['one', p1.messageId, true],
      ['two', p2.messageId, true],
    ]);
  });

  it('an outbound QoS 2 flow waiting for PUBCOMP gets its PUBREL again, and the message is not sent again', async () => {
    const h = (harness = await make());
    const r = await raw(h, 5, { clientId: 'sr-pubrel', clean: false, properties: { sessionExpiryInterval: 600 } });
    await r.next('connack');
    r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sr/q2', qos: 2 }] }, 5);
    await r.next('suback');
    const pub = await mqttClients(h).connect({ clientId: 'sr-q2-pub' });
    await pub.publishAsync('sr/q2', 'exactly once', { qos: 2 });
    const p = await r.next('publish');
    r.send({ cmd: 'pubrec', messageId: p.messageId }, 5);
    expect((await r.next('pubrel')).messageId).toBe(p.messageId);
    // no PUBCOMP: the flow is open at the restart
    await h.restart();

    const again = await raw(h, 5, { clientId: 'sr-pubrel', clean: false, properties: { sessionExpiryInterval: 600 } });
    expect((await again.next('connack', 5000)).sessionPresent).toBe(true);
    expect((await again.next('pubrel', 5000)).messageId).toBe(p.messageId);
    again.send({ cmd: 'pubcomp', messageId: p.messageId }, 5);
    // a resent PUBLISH would go out with the session's resumption, before this answer
    again.send({ cmd: 'pingreq' }, 5);
    await again.next('pingresp');
    expect(again.packets.filter((x) => x.cmd === 'publish')).toEqual([]);
  });

  it('an inbound QoS 2 flow waiting for PUBREL: a resent PUBLISH is not routed again, PUBREL completes it', async () => {
    const h = (harness = await make());
    const sub = await mqttClients(h).connect(persistent5('sr-in2-sub'));
    const before = new Inbox(sub);
    await sub.subscribeAsync('sr/in2', { qos: 2 });
    const r = await raw(h, 5, { clientId: 'sr-in2', clean: false, properties: { sessionExpiryInterval: 600 } });
    await r.next('connack');
    r.send({ cmd: 'publish', topic: 'sr/in2', payload: Buffer.from('once'), qos: 2, messageId: 9, dup: false, retain: false }, 5);
    expect((await r.next('pubrec')).messageId).toBe(9);
    await before.waitFor(1);
    // no PUBREL: the flow is open at the restart
    await h.restart();

    const after = mqttClients(h);
    const [, , inbox] = await after.connectWithConnack(persistent5('sr-in2-sub'));
    const again = await raw(h, 5, { clientId: 'sr-in2', clean: false, properties: { sessionExpiryInterval: 600 } });
    expect((await again.next('connack', 5000)).sessionPresent).toBe(true);
    again.send({ cmd: 'publish', topic: 'sr/in2', payload: Buffer.from('once'), qos: 2, messageId: 9, dup: true, retain: false }, 5);
    expect((await again.next('pubrec')).messageId).toBe(9);
    again.send({ cmd: 'pubrel', messageId: 9 }, 5);
    const comp = await again.next('pubcomp');
    expect([comp.messageId, comp.reasonCode ?? 0]).toEqual([9, 0]);
    // a message published after the PUBREL: anything the PUBREL routed reaches the subscriber before it
    again.send({ cmd: 'publish', topic: 'sr/in2', payload: Buffer.from('later'), qos: 0, dup: false, retain: false }, 5);
    await until('the later message', () => inbox.payloads.includes('later'), 10_000, 20);
    // routed once, on the first PUBLISH (MQTT 5 §4.3.3 method A), delivered before the restart
    expect([...before.payloads, ...inbox.payloads]).toEqual(['once', 'later']);
  });

  it('a will waiting out its delay is published when the delay ends, not lost and not early', async () => {
    const h = (harness = await make());
    // a persistent watcher: the will reaches it whether it is published before or after it is back
    const watcher = await mqttClients(h).connect(persistent5('sr-will-watcher'));
    await watcher.subscribeAsync('sr/will', { qos: 1 });
    await watcher.endAsync();
    const r = await raw(h, 5, {
      clientId: 'sr-will',
      clean: true,
      properties: { sessionExpiryInterval: 600 },
      will: { topic: 'sr/will', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 3 } },
    });
    await r.next('connack');
    const droppedAt = Date.now();
    r.destroy(); // no DISCONNECT: the will is due after its delay
    // the broker has seen the connection drop and stored the will (saved at once, sessions.db;
    // on a machine slow enough for the delay to pass first, the will is published before the restart)
    const willStored = () => rowsOf(join(h.dataDir, 'mqtt', 'sessions.db'), "SELECT 1 FROM wills WHERE client_id = 'sr-will'").length > 0;
    await until('the delayed will stored', () => willStored() || Date.now() - droppedAt >= 3000, 10_000, 20);
    await h.restart();

    const [, connack, inbox] = await mqttClients(h).connectWithConnack(persistent5('sr-will-watcher'));
    expect(connack.sessionPresent).toBe(true);
    await inbox.waitFor(1, 10_000);
    expect(inbox.payloads).toEqual(['gone']);
    // not before its delay (when the restart took less than the delay, this tells an early will)
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(2900);
  });
});

describe('a damaged sessions.db', () => {
  it('rows that do not parse are dropped at start; the broker starts and the good sessions come back', async () => {
    const b = await startMqttBroker();
    harness = { mqttPort: b.tcpPort, amqpUrl: '', dataDir: b.broker.core.dataDir!, restart: () => b.restart(), stop: () => b.stop() };
    const h = harness;
    const c = await mqttClients(h).connect({ clientId: 'sr-good', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
    await c.subscribeAsync('$share/g/sr-good/+', { qos: 1 });
    await c.endAsync();
    const dbPath = join(b.broker.core.dataDir!, 'mqtt', 'sessions.db');
    const db = new Database(dbPath);
    const good = { v: 1, user: 'guest', expiry: 60, disconnectedAt: 0, subs: [], inflight: [], pubrel: [], inq2: [] };
    const bad: [string, string][] = [
      ['bad-json', '{not json'],
      ['bad-null', 'null'],
      ['bad-sub', JSON.stringify({ ...good, subs: [{ f: 5, q: 1 }] })],
      ['bad-inflight', JSON.stringify({ ...good, inflight: 'x' })],
      ['bad-pubrel', JSON.stringify({ ...good, pubrel: ['a'] })],
      ['bad-version', JSON.stringify({ ...good, v: 2 })],
    ];
    for (const [id, record] of bad) db.prepare('INSERT INTO sessions (vhost, client_id, record) VALUES (?, ?, ?)').run('/', id, record);
    const badWills: [string, string][] = [
      ['will-json', 'nope'],
      ['will-shape', JSON.stringify({ user: 'guest' })],
      ['will-props', JSON.stringify({ user: 'guest', topic: 't', routingKey: 't', qos: 1, retain: false, payload: '', properties: '{', delaySeconds: 5, dueAt: Date.now() + 60_000 })],
    ];
    for (const [id, record] of badWills) db.prepare('INSERT INTO wills (vhost, client_id, record) VALUES (?, ?, ?)').run('/', id, record);
    db.close();

    await h.restart();
    h.mqttPort = b.tcpPort;
    const after = mqttClients(h);
    const [, connack, inbox] = await after.connectWithConnack({ clientId: 'sr-good', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
    expect(connack.sessionPresent).toBe(true);
    const pub = await after.connect({ clientId: 'sr-good-pub', protocolVersion: 5 });
    await pub.publishAsync('sr-good/x', 'after', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.messages.map((m) => m.payload)).toEqual(['after']);
    // the unreadable rows are gone, the good one stays
    const check = new Database(dbPath, { readonly: true });
    try {
      const sessions = (check.prepare('SELECT client_id FROM sessions').all() as { client_id: string }[]).map((r) => r.client_id);
      const wills = check.prepare('SELECT client_id FROM wills').all();
      expect(sessions).toEqual(['sr-good']);
      expect(wills).toEqual([]);
    } finally {
      check.close();
    }
  });
});
