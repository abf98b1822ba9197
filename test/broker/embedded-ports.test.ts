/**
 * An embedded broker opens no fixed port it was not asked for: with the default ports of
 * every listener held by someone else (plain net servers from this process, or whoever held
 * them already), two brokers with every plugin and every TLS listener on, each named only
 * with `port: 0`, start in one process; a real client of each protocol connects to each
 * listener of both. A plugin section naming no ports at all (`mqtt: {}`) and the WebSocket
 * listener the MQTT section turns on by default are covered too; `warren start`'s choice
 * (`defaultPorts: true`) keeps the fixed defaults.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, createLogger } from '../../src/index.js';
import { generateCerts, type TestCerts } from '../tls/certs.js';
import { tableOf, tcpPlugin } from '../unit/plugin-host/test-plugins.js';

/** Every listener's default port (RabbitMQ's), as `warren start` opens them. */
const DEFAULT_PORTS = [5672, 5671, 1883, 8883, 15675, 15676, 61613, 61614, 15674, 15673, 15672, 15671];

/** Hold `port` on every address (dual-stack where the host has IPv6); null when someone else holds it already. */
function hold(port: number): Promise<Server | null> {
  const attempt = (host: string) =>
    new Promise<Server | null>((resolve, reject) => {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
      s.listen({ port, host, exclusive: true }, () => resolve(s));
    });
  return attempt('::').catch(() => attempt('0.0.0.0'));
}

/** Whether a connect to 127.0.0.1:`port` is accepted (by anyone). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

let certs: TestCerts;
const held: Server[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  certs = generateCerts([]);
  for (const port of DEFAULT_PORTS) {
    const s = await hold(port);
    if (s) held.push(s);
  }
  // every default port is taken now, by us or by someone else
  for (const port of DEFAULT_PORTS) expect(await accepts(port), `port ${port} held`).toBe(true);
});

afterAll(async () => {
  for (const s of held) await new Promise((r) => s.close(r));
  certs?.remove();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function embedded(options: Record<string, unknown>): Promise<Broker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-embedded-'));
  dirs.push(dataDir);
  const broker = new Broker({
    dataDir,
    log: { level: 'warn' },
    sslOptions: { certfile: certs.serverCertFile, keyfile: certs.serverKeyFile, cacertfile: certs.caFile },
    ...options,
  });
  await broker.start();
  return broker;
}

const EVERY_PLUGIN = {
  amqp: { port: 0, sslEnabled: true },
  mqtt: { port: 0, sslEnabled: true, wssEnabled: true },
  stomp: { port: 0, sslEnabled: true, wssEnabled: true },
  management: { port: 0, sslEnabled: true },
};

/** Warren's listener names and the protocol RabbitMQ 3.10's /api/overview gives the same listener. */
const RABBIT_PROTOCOLS: Record<string, string> = {
  amqp: 'amqp',
  amqps: 'amqp/ssl',
  mqtt: 'mqtt',
  mqtts: 'mqtt/ssl',
  'mqtt-ws': 'http/web-mqtt',
  'mqtt-wss': 'https/web-mqtt',
  stomp: 'stomp',
  stomps: 'stomp/ssl',
  'stomp-ws': 'http/web-stomp',
  'stomp-wss': 'https/web-stomp',
  management: 'http',
  'management-https': 'https',
};
const byProtocol = (a: { protocol: string }, b: { protocol: string }) => a.protocol.localeCompare(b.protocol);

const LISTENERS = ['amqp', 'amqps', 'mqtt', 'mqtt-ws', 'mqtts', 'mqtt-wss', 'stomp', 'stomp-ws', 'stomps', 'stomp-wss', 'management', 'management-https'];

async function amqpRoundTrip(url: string, tls: boolean): Promise<void> {
  const c = await amqp.connect(url, tls ? { ca: [certs.ca] } : {});
  const ch = await c.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from('hello'));
  await expect.poll(async () => (await ch.get(queue, { noAck: true })) !== false).toBe(true);
  await c.close();
}

async function mqttRoundTrip(url: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ca: [certs.ca], username: 'guest', password: 'guest' });
  const got = new Promise<string>((resolve) => c.on('message', (_t, payload) => resolve(payload.toString())));
  await c.subscribeAsync('ports/check', { qos: 1 });
  await c.publishAsync('ports/check', 'hi', { qos: 1 });
  expect(await got).toBe('hi');
  await c.endAsync();
}

/** CONNECT, and the first frame back (text up to NUL), over a TCP or TLS socket. */
function stompConnect(port: number, tls: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const onConnect = () => socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
    const socket: Socket = tls ? tlsConnect({ host: '127.0.0.1', port, ca: [certs.ca] }, onConnect) : netConnect(port, '127.0.0.1', onConnect);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\0')) {
        socket.destroy();
        resolve(text.slice(0, text.indexOf('\0')));
      }
    });
    socket.once('error', reject);
  });
}

function stompWsConnect(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['v12.stomp'], { ca: [certs.ca] });
    ws.once('open', () => ws.send('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0'));
    ws.once('message', (data) => {
      ws.close();
      resolve(data.toString());
    });
    ws.once('error', reject);
  });
}

async function httpOverview(port: number, tls: boolean): Promise<{ listeners: { protocol: string; port: number; node: string }[] }> {
  const authorization = 'Basic ' + Buffer.from('guest:guest').toString('base64');
  if (!tls) {
    const res = await fetch(`http://127.0.0.1:${port}/api/overview`, { headers: { authorization } });
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/overview', ca: [certs.ca], headers: { authorization } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTPS ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end();
  });
}

async function everyListenerWorks(b: Broker): Promise<void> {
  await amqpRoundTrip(`amqp://guest:guest@127.0.0.1:${b.address('amqp').port}`, false);
  await amqpRoundTrip(`amqps://guest:guest@localhost:${b.address('amqps').port}`, true);
  await mqttRoundTrip(`mqtt://127.0.0.1:${b.address('mqtt').port}`);
  await mqttRoundTrip(`mqtts://localhost:${b.address('mqtts').port}`);
  await mqttRoundTrip(`ws://127.0.0.1:${b.address('mqtt-ws').port}/ws`);
  await mqttRoundTrip(`wss://localhost:${b.address('mqtt-wss').port}/ws`);
  expect(await stompConnect(b.address('stomp').port, false)).toMatch(/^CONNECTED\n/);
  expect(await stompConnect(b.address('stomps').port, true)).toMatch(/^CONNECTED\n/);
  expect(await stompWsConnect(`ws://127.0.0.1:${b.address('stomp-ws').port}/ws`)).toMatch(/^CONNECTED\n/);
  expect(await stompWsConnect(`wss://localhost:${b.address('stomp-wss').port}/ws`)).toMatch(/^CONNECTED\n/);
  // the overview lists every listener of every plugin under RabbitMQ's protocol names
  const expected = Object.entries(RABBIT_PROTOCOLS).map(([name, protocol]) => ({ protocol, port: b.address(name).port }));
  const overview = await httpOverview(b.address('management').port, false);
  const listed = overview.listeners.map((l) => ({ protocol: l.protocol, port: l.port }));
  expect(listed.sort(byProtocol)).toEqual(expected.sort(byProtocol));
  for (const l of overview.listeners) expect(Object.keys(l).sort()).toEqual(['ip_address', 'node', 'port', 'protocol', 'socket_opts']);
  expect((await httpOverview(b.address('management-https').port, true)).listeners).toHaveLength(LISTENERS.length);
}

// A case starts brokers with every plugin (a dozen listeners) and round-trips over each in
// turn: seconds on a loaded 2-core machine, which is not what is tested here.
describe('an embedded broker with the default ports taken', { timeout: 60_000 }, () => {
  it('starts twice in one process with every plugin and TLS listener on, each named only by port 0', async () => {
    const first = await embedded(EVERY_PLUGIN);
    const second = await embedded(EVERY_PLUGIN);
    try {
      for (const b of [first, second]) {
        expect(b.listeners().map((l) => l.name).sort()).toEqual([...LISTENERS].sort());
        for (const l of b.listeners()) expect(DEFAULT_PORTS, `${l.name} on ${l.port}`).not.toContain(l.port);
        expect(b.config.settings.get('mqtt.ws_port')?.source).toMatch(/embedded broker/);
      }
      const ports = [...first.listeners(), ...second.listeners()].map((l) => l.port);
      expect(new Set(ports).size).toBe(ports.length);
      await everyListenerWorks(first);
      await everyListenerWorks(second);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it('`mqtt: {}` and `stomp: {}` alone: every listener of theirs on a free port, WebSocket included', async () => {
    const b = await embedded({ mqtt: {}, stomp: {} });
    try {
      expect(b.listeners().map((l) => l.name).sort()).toEqual(['mqtt', 'mqtt-ws', 'stomp', 'stomp-ws']);
      await mqttRoundTrip(`ws://127.0.0.1:${b.address('mqtt-ws').port}/ws`);
      expect(await stompWsConnect(`ws://127.0.0.1:${b.address('stomp-ws').port}/ws`)).toMatch(/^CONNECTED\n/);
    } finally {
      await b.stop();
    }
  });

  it('a port some layer names is kept; `defaultPorts: true` (warren start) keeps every default', async () => {
    const schema = {
      port: { type: 'integer', default: 0, min: 0, max: 65535, doc: 'port' },
      ws_port: { type: 'integer', default: 15999, min: 0, max: 65535, doc: 'WebSocket port' },
      ssl_port: { type: 'integer', default: 15998, min: 0, max: 65535, doc: 'TLS port' },
    } as const;
    const configs = async (setup: { defaultPorts?: boolean }, options: Record<string, unknown>) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'warren-embedded-'));
      dirs.push(dataDir);
      const b = new Broker({ dataDir, ...options }, { logger: createLogger({ level: 'silent' }), plugins: tableOf(tcpPlugin('demo', { journal: [], schema })), ...setup });
      await b.start();
      const section = b.config.plugins.get('demo')!.config;
      await b.stop();
      return section;
    };
    expect(await configs({}, { demo: { port: 0 } })).toMatchObject({ port: 0, ws_port: 0, ssl_port: 0 });
    expect(await configs({}, { demo: { port: 0, sslPort: 15997 } })).toMatchObject({ ws_port: 0, ssl_port: 15997 });
    expect(await configs({ defaultPorts: true }, { demo: { port: 0 } })).toMatchObject({ port: 0, ws_port: 15999, ssl_port: 15998 });
  });
});
