/**
 * Bad input on the streamed PUBLISH path (a packet above `large_message_threshold` is taken
 * from the packet parser after its fixed header and read by plugins/mqtt/inbound-body.ts):
 * a variable header that never ends within its bound, and one whose properties do not decode,
 * close that connection only. Nothing is published, and other clients carry on.
 */
import { connect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';

const MiB = 1024 * 1024;
let b: ThreeProtocolBroker | null = null;
const clients: MqttClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  await b?.stop();
  b = null;
});

/** MQTT's variable byte integer */
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** MQTT 5 CONNECT, clean start, no properties, client id `bad` */
const CONNECT_V5 = Buffer.from([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 60, 0, 0, 3, 0x62, 0x61, 0x64]);

/** A raw MQTT 5 client that has its CONNACK; resolves `closed` when the broker ends the socket. */
async function rawClient(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', (d) => (d[0] === 0x20 ? resolve() : reject(new Error(`not a CONNACK: ${d[0]}`))));
    socket.write(CONNECT_V5);
  });
  return { socket, closed };
}

/** the fixed header and topic `big/x` of a QoS 0 PUBLISH of `remaining` bytes after its fixed header */
const publishHead = (remaining: number) => Buffer.concat([Buffer.from([0x30]), varint(remaining), Buffer.from([0, 5]), Buffer.from('big/x')]);

async function watcher(port: number): Promise<{ client: MqttClient; got: string[] }> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 5, clientId: 'watcher', reconnectPeriod: 0 });
  clients.push(client);
  const got: string[] = [];
  client.on('message', (topic) => got.push(topic));
  await client.subscribeAsync('#', { qos: 1 });
  return { client, got };
}

/** the watcher still gets an ordinary message: the broker carries on */
async function stillServes(w: { client: MqttClient; got: string[] }): Promise<void> {
  await w.client.publishAsync('after', 'ok', { qos: 1 });
  const deadline = Date.now() + 5000;
  while (!w.got.includes('after') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(w.got).toEqual(['after']);
}

describe('MQTT streamed PUBLISH: bad variable headers', { timeout: 60_000 }, () => {
  it('properties claiming 200 MiB (a header past its bound) close the connection, nothing is published', async () => {
    b = await startThreeProtocols({ largeMessageThreshold: MiB });
    const w = await watcher(b.mqttPort);
    const bad = await rawClient(b.mqttPort);
    const remaining = 4 * MiB;
    const head = Buffer.concat([publishHead(remaining), varint(200 * MiB)]);
    bad.socket.write(head);
    // bytes that would be properties, past the variable header's 1 MiB bound
    bad.socket.write(Buffer.alloc(MiB + 64 * 1024));
    await bad.closed;
    await stillServes(w);
  });

  it('a property that does not decode closes the connection, nothing is published', async () => {
    b = await startThreeProtocols({ largeMessageThreshold: MiB });
    const w = await watcher(b.mqttPort);
    const bad = await rawClient(b.mqttPort);
    const remaining = 2 * MiB;
    // property length 2, property id 0x7f (no such property) — then payload bytes
    const head = Buffer.concat([publishHead(remaining), Buffer.from([2, 0x7f, 0])]);
    bad.socket.write(head);
    bad.socket.write(Buffer.alloc(256 * 1024));
    await bad.closed;
    await stillServes(w);
  });
});
