/**
 * TLS listeners through a standby: the standby forwards the client's TLS bytes unopened behind
 * a PROXY v1 header, the leader reads the header from the raw socket and then terminates TLS
 * (docs/clustering.md, "Finding the leader"). Real clients through a StandbyProxy to an
 * in-process broker with every TLS listener on: AMQPS (amqplib, with a client certificate
 * and EXTERNAL: the leader itself verifies it), MQTTS and MQTT over WSS (MQTT.js), STOMP over
 * TLS, HTTPS (management). The leader must see each client's own port, not the standby's.
 * And which listeners a node registers and forwards (clientPorts): TLS ones only when enabled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPorts } from '../../src/cluster/client-ports.js';
import { acceptProxyHeaders } from '../../src/cluster/proxy/proxy-accept.js';
import { StandbyProxy } from '../../src/cluster/proxy/standby-proxy.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/index.js';
import { BUILTIN_PLUGINS } from '../../src/plugin-host/builtin.js';
import { loadManifests } from '../../src/plugin-host/host.js';
import { setBeforeListen } from '../../src/util/listen.js';
import { freePorts } from '../helpers/free-port.js';
import { startTlsBroker, type TlsTestBroker } from '../tls/broker.js';
import { generateCerts, type TestCerts } from '../tls/certs.js';

describe('the client ports a node forwards (clientPorts)', () => {
  it('TLS listeners only when switched on; plain ones unless switched off', async () => {
    const manifests = await loadManifests(BUILTIN_PLUGINS);
    const keys = (argv: string[]) => clientPorts(loadConfig(manifests, { argv, env: {}, cwd: tmpdir() }), manifests).map((p) => p.key).sort();
    const plain = keys([]);
    expect(plain).toEqual(expect.arrayContaining(['amqp.port', 'mqtt.port', 'mqtt.ws_port', 'stomp.port', 'stomp.ws_port', 'management.port']));
    expect(plain.filter((k) => /ssl|wss/.test(k))).toEqual([]);
    const on = ['amqp.ssl_enabled', 'mqtt.ssl_enabled', 'mqtt.wss_enabled', 'stomp.ssl_enabled', 'stomp.wss_enabled', 'management.ssl_enabled'].flatMap((k) => [`--${k}`, 'true']);
    expect(keys(on).filter((k) => /ssl|wss/.test(k))).toEqual(['amqp.ssl_port', 'management.ssl_port', 'mqtt.ssl_port', 'mqtt.wss_port', 'stomp.ssl_port', 'stomp.wss_port']);
  });
});

describe('TLS clients through a standby', () => {
  let certs: TestCerts;
  let b: TlsTestBroker;
  let proxy: StandbyProxy;
  let dir: string;
  const at: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-proxy-tls-'));
    certs = generateCerts(['alice']);
    setBeforeListen((server) => acceptProxyHeaders(server, (address) => address === '127.0.0.1'));
    b = await startTlsBroker(certs, {
      amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
      mqtt: { port: 0, wsPort: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0, wssEnabled: true, wssPort: 0 },
      stomp: { port: 0, wsPort: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
      management: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
    }, ['alice']);
    const leader: Record<string, string> = { 'amqp.ssl_port': 'amqps', 'mqtt.ssl_port': 'mqtts', 'mqtt.wss_port': 'mqtt-wss', 'stomp.ssl_port': 'stomps', 'management.ssl_port': 'management-https' };
    const keys = Object.keys(leader);
    const ports = await freePorts(keys.length);
    keys.forEach((k, i) => (at[k] = ports[i]!));
    proxy = new StandbyProxy({
      ports: keys.map((key) => ({ key, host: '127.0.0.1', port: at[key]! })),
      target: (key) => ({ host: '127.0.0.1', port: b.port(leader[key]!), epoch: 1 }),
      log: silentLogger,
    });
    await proxy.listen();
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await b?.stop();
    setBeforeListen(null);
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** the leader's view of the connection whose client port is `port` */
  const seenFrom = (port: number) => [...b.broker.core.connections.values()].find((c) => c.info.peerPort === port)?.info;

  it('AMQPS with a client certificate and EXTERNAL: verified by the leader, which sees the client\'s port', async () => {
    const alice = certs.clients.alice!;
    const c = await amqp.connect(`amqps://127.0.0.1:${at['amqp.ssl_port']}`, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() });
    try {
      const ch = await c.createConfirmChannel();
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      ch.sendToQueue(q, Buffer.from('through a standby'));
      await ch.waitForConfirms();
      expect((await ch.get(q, { noAck: true }) || null)?.content.toString()).toBe('through a standby');
      const localPort = (c.connection as unknown as { stream: { localPort: number } }).stream.localPort;
      expect(seenFrom(localPort)).toMatchObject({ user: 'alice', peerHost: '127.0.0.1', peerPort: localPort });
    } finally {
      await c.close();
    }
  });

  it('MQTTS and MQTT over WSS: publish and receive; the leader sees the MQTTS client\'s port', async () => {
    const tcp = await mqtt.connectAsync(`mqtts://127.0.0.1:${at['mqtt.ssl_port']}`, { ca: [certs.ca], username: 'guest', password: 'guest', clientId: 'standby-mqtts', reconnectPeriod: 0 });
    const ws = await mqtt.connectAsync(`wss://127.0.0.1:${at['mqtt.wss_port']}/ws`, { ca: [certs.ca], username: 'guest', password: 'guest', clientId: 'standby-wss', reconnectPeriod: 0 });
    try {
      await tcp.subscribeAsync('standby/tls', { qos: 1 });
      const got = new Promise<string>((resolve) => tcp.on('message', (_t, p) => resolve(p.toString())));
      await ws.publishAsync('standby/tls', 'wss to mqtts', { qos: 1 });
      expect(await got).toBe('wss to mqtts');
      const localPort = (tcp.stream as unknown as { localPort: number }).localPort;
      expect(seenFrom(localPort)).toMatchObject({ peerHost: '127.0.0.1', peerPort: localPort });
    } finally {
      await Promise.all([tcp.endAsync(true), ws.endAsync(true)]);
    }
  });

  it('STOMP over TLS: CONNECT answered CONNECTED by the leader, which sees the client\'s port', async () => {
    const socket = await new Promise<ReturnType<typeof tlsConnect>>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: at['stomp.ssl_port']!, ca: [certs.ca] }, () => resolve(s));
      s.once('error', reject);
    });
    try {
      const reply = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
      expect(await reply).toMatch(/^CONNECTED\n/);
      expect(seenFrom(socket.localPort!)).toMatchObject({ peerHost: '127.0.0.1', peerPort: socket.localPort });
    } finally {
      socket.destroy();
    }
  });

  it('HTTPS (management): guest, loopback only, is let in as the client on this machine it is', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: at['management.ssl_port'], path: '/api/whoami', ca: [certs.ca], headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'guest' });
  });
});
