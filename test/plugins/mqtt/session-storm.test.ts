/**
 * Many devices creating persistent sessions at once, the broker killed (SIGKILL of the compiled
 * CLI) the moment the last of them was answered, then every device reconnecting at once: a
 * CONNACK or SUBACK is never sent before what it vouches for is written (the session record
 * committed; the session queue and binding, saved together with the other sessions' under one
 * fdatasync, durable), so every session is present again, its subscription delivers, and the
 * storm raises no resource alarm. A CI-sized version of bench/mqtt/reconnect-storm.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePortsEnv } from '../../helpers/free-ports-env.js';
import { Clients, sleep } from './helpers.js';

const SUBSCRIBED = 200;
const CONNECT_ONLY = 50;
const cli = join(inject('buildDir'), 'src', 'cli.js');
let freePorts: Record<string, string> = {};
beforeAll(async () => {
  freePorts = await freePortsEnv();
});

interface Device {
  socket: Socket;
  /** packets received, in order */
  packets: mqttPacket.Packet[];
}

/** A raw MQTT 3.1.1 device: CONNECT with clean session 0 and, when `topic` is given, SUBSCRIBE at QoS 1 in the same write. */
function device(port: number, clientId: string, topic: string | null): Promise<Device> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    const d: Device = { socket, packets: [] };
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => {
      d.packets.push(p);
      if (p.cmd === (topic === null ? 'connack' : 'suback')) resolve(d);
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`${clientId}: closed before its answer`)));
    const bytes = [mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: false, keepalive: 0 })];
    if (topic !== null) bytes.push(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] }));
    socket.write(Buffer.concat(bytes));
  });
}

let child: ChildProcess | null = null;
let log = '';
const sockets: Socket[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'warren-mqtt-storm-'));

async function start(): Promise<number> {
  log = '';
  const c = spawn(process.execPath, [cli, 'start', '--data-dir', dataDir, '--log.format', 'json'], {
    env: { PATH: process.env.PATH ?? '', ...freePorts },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child = c;
  c.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const started = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; listeners?: { name: string; port: number }[] })
      .find((l) => l.msg === 'broker started');
    if (started) return started.listeners!.find((l) => l.name === 'mqtt')!.port;
    if (c.exitCode !== null || Date.now() > deadline) throw new Error(`broker did not start:\n${log}`);
    await sleep(20);
  }
}

async function kill(): Promise<void> {
  const c = child;
  if (c === null || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGKILL');
  await exited;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a storm of persistent sessions', () => {
  it(`${SUBSCRIBED} subscribed and ${CONNECT_ONLY} connect-only devices created at once survive kill -9 right after their answers, and all reconnect at once`, { timeout: 120_000 }, async () => {
    let port = await start();
    const ids = Array.from({ length: SUBSCRIBED + CONNECT_ONLY }, (_, i) => `storm-${i}`);
    const topic = (i: number) => `storm/${i}/cmd`;
    const first = await Promise.all(ids.map((id, i) => device(port, id, i < SUBSCRIBED ? topic(i) : null)));
    // no pause: the broker dies the moment the last answer arrived
    await kill();
    for (const d of first) d.socket.destroy();
    for (const d of first.slice(0, SUBSCRIBED)) {
      const suback = d.packets.find((p) => p.cmd === 'suback') as mqttPacket.ISubackPacket;
      expect(suback.granted).toEqual([1]);
    }

    port = await start();
    const again = await Promise.all(ids.map((id) => device(port, id, null)));
    sockets.push(...again.map((d) => d.socket));
    const present = again.filter((d) => (d.packets[0] as mqttPacket.IConnackPacket).sessionPresent).length;
    expect(present).toBe(ids.length);

    // each subscription survived: a QoS 1 command to every subscribed device arrives
    const clients = new Clients(`mqtt://127.0.0.1:${port}`);
    try {
      const sender = await clients.connect({ clientId: 'storm-sender' });
      await Promise.all(ids.slice(0, SUBSCRIBED).map((_, i) => sender.publishAsync(topic(i), `cmd-${i}`, { qos: 1 })));
      const deadline = Date.now() + 20_000;
      const got = () => again.slice(0, SUBSCRIBED).filter((d, i) => d.packets.some((p) => p.cmd === 'publish' && String(p.payload) === `cmd-${i}`)).length;
      while (got() < SUBSCRIBED && Date.now() < deadline) await sleep(50);
      expect(got()).toBe(SUBSCRIBED);
    } finally {
      await clients.closeAll();
    }
    expect(log).not.toMatch(/alarm/i);
  });
});
