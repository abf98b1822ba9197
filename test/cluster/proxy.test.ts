/**
 * Finding the leader without etcd in the way: an in-process broker whose listeners accept
 * PROXY headers from a trusted address, and a StandbyProxy forwarding to it (what a standby
 * does), with real clients: AMQP (amqplib), MQTT over WebSocket (MQTT.js: the HTTP upgrade
 * path) and HTTP (management). The broker must see each client's own address and port; a
 * PROXY header from an untrusted peer must not be believed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker.js';
import { silentLogger } from '../../src/log/index.js';
import { acceptProxyHeaders } from '../../src/cluster/proxy/proxy-accept.js';
import { formatProxyV1, parseProxyV1 } from '../../src/cluster/proxy/proxy-header.js';
import { StandbyProxy } from '../../src/cluster/proxy/standby-proxy.js';
import { setBeforeListen } from '../../src/util/listen.js';
import { freePorts, until } from '../helpers/free-port.js';

describe('PROXY protocol v1 header', () => {
  it('formats and parses TCP4, TCP6 and UNKNOWN; refuses malformed ones', () => {
    const line = formatProxyV1({ address: '::ffff:192.0.2.7', port: 56324 }, { address: '127.0.0.1', port: 5672 });
    expect(line).toBe('PROXY TCP4 192.0.2.7 127.0.0.1 56324 5672\r\n');
    const parsed = parseProxyV1(Buffer.from(line + 'AMQP\x00\x00\x09\x01'));
    expect(parsed).toEqual({ kind: 'header', length: line.length, address: { family: 'IPv4', sourceAddress: '192.0.2.7', sourcePort: 56324, destinationAddress: '127.0.0.1', destinationPort: 5672 } });
    expect(parseProxyV1(Buffer.from('PROXY TCP6 ::1 ::1 1 2\r\n'))).toMatchObject({ kind: 'header', address: { family: 'IPv6', sourceAddress: '::1' } });
    expect(parseProxyV1(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', length: 15, address: null });
    expect(parseProxyV1(Buffer.from('AMQP\x00\x00\x09\x01'))).toEqual({ kind: 'none' });
    expect(parseProxyV1(Buffer.from('PRO'))).toEqual({ kind: 'partial' });
    expect(parseProxyV1(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n')).kind).toBe('invalid');
    expect(parseProxyV1(Buffer.from('PROXY TCP4 ::1 5.6.7.8 1 1\r\n')).kind).toBe('invalid');
    expect(parseProxyV1(Buffer.from('PROXY ' + 'x'.repeat(120))).kind).toBe('invalid');
  });
});

describe('a standby forwarding to a leader', () => {
  let dir: string;
  let broker: Broker;
  let proxy: StandbyProxy;
  let trusted = true;
  const ports = { amqp: 0, mqttWs: 0, management: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-proxy-'));
    setBeforeListen((server) => acceptProxyHeaders(server, (address) => trusted && address === '127.0.0.1'));
    broker = new Broker({
      dataDir: dir, log: { level: 'silent' }, auth: { failureDelay: 0 },
      amqp: { port: 0, host: '127.0.0.1' }, mqtt: { port: 0, host: '127.0.0.1', wsPort: 0 }, management: { port: 0, host: '127.0.0.1' },
    });
    await broker.start();
    const leader: Record<string, number> = {
      'amqp.port': broker.address('amqp').port, 'mqtt.ws_port': broker.address('mqtt-ws').port, 'management.port': broker.address('management').port,
    };
    [ports.amqp, ports.mqttWs, ports.management] = await freePorts(3);
    proxy = new StandbyProxy({
      ports: [{ key: 'amqp.port', host: '127.0.0.1', port: ports.amqp }, { key: 'mqtt.ws_port', host: '127.0.0.1', port: ports.mqttWs }, { key: 'management.port', host: '127.0.0.1', port: ports.management }],
      target: (key) => ({ host: '127.0.0.1', port: leader[key]!, epoch: 1 }),
      log: silentLogger,
    });
    await proxy.listen();
  }, 30_000);

  afterAll(async () => {
    await proxy?.close();
    await broker?.stop();
    setBeforeListen(null);
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
  const connections = async () => (await (await fetch(`http://127.0.0.1:${ports.management}/api/connections`, { headers: auth })).json()) as { peer_port: number; peer_host: string; protocol: string }[];

  it('AMQP through the proxy: the broker sees the client\'s port; guest (loopback only) logs in', async () => {
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`);
    const ch = await c.createConfirmChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    ch.sendToQueue(q, Buffer.from('x'));
    await ch.waitForConfirms();
    expect((await ch.get(q, { noAck: true })) && true).toBe(true);
    const localPort = (c.connection as unknown as { stream: { localPort: number } }).stream.localPort;
    const list = await until('the connection listed', async () => ((await connections()).some((x) => x.peer_port === localPort) ? connections() : undefined));
    expect(list.find((x) => x.peer_port === localPort)?.peer_host).toBe('127.0.0.1');
    await c.close();
  });

  it('MQTT over WebSocket through the proxy (HTTP upgrade after the header)', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${ports.mqttWs}/ws`, { clientId: 'proxied-ws', username: 'guest', password: 'guest', reconnectPeriod: 0 });
    const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
    await client.subscribeAsync('proxy/test', { qos: 1 });
    await client.publishAsync('proxy/test', 'over ws', { qos: 1 });
    expect(await got).toBe('over ws');
    await client.endAsync();
  });

  it('MQTT 5 Server Reference (option): a v5 client is told CONNACK 0x9C and the leader\'s address; a 3.1.1 client is forwarded', async () => {
    const [port] = await freePorts(1);
    const mqttLeader = broker.address('mqtt');
    const redirecting = new StandbyProxy({
      ports: [{ key: 'mqtt.port', host: '127.0.0.1', port: port! }],
      target: () => ({ host: '127.0.0.1', port: mqttLeader.port, epoch: 1 }),
      log: silentLogger,
      mqttServerReference: true,
    });
    await redirecting.listen();
    try {
      const v5 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: 'v5-redirected', username: 'guest', password: 'guest', reconnectPeriod: 0 });
      const connack = await new Promise<{ reasonCode?: number; properties?: { serverReference?: string } }>((resolve) => {
        v5.on('packetreceive', (p) => {
          if (p.cmd === 'connack') resolve(p as never);
        });
      });
      v5.end(true);
      expect(connack.reasonCode).toBe(0x9c);
      expect(connack.properties?.serverReference).toBe(`127.0.0.1:${mqttLeader.port}`);
      const v311 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId: 'v311-forwarded', username: 'guest', password: 'guest', reconnectPeriod: 0 });
      await v311.publishAsync('proxy/v311', 'x', { qos: 1 });
      await v311.endAsync();
    } finally {
      await redirecting.close();
    }
  });

  it('a PROXY header from an untrusted peer is not believed: the AMQP handshake fails', async () => {
    trusted = false;
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const s = netConnect(broker.address('amqp').port, '127.0.0.1', () => {
          s.write('PROXY TCP4 203.0.113.9 127.0.0.1 4444 5672\r\nAMQP\x00\x00\x09\x01');
        });
        let data = Buffer.alloc(0);
        s.on('data', (d) => (data = Buffer.concat([data, d])));
        s.on('close', () => resolve(data));
        s.on('error', reject);
      });
      // AMQP 0-9-1 §4.2.2: a bad protocol header is answered with the supported one, then close.
      expect(reply.toString('latin1')).toBe('AMQP\x00\x00\x09\x01');
    } finally {
      trusted = true;
    }
  });
});
