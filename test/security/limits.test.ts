/**
 * Limits that the per-plugin limit tests do not cover, over real clients:
 * connection_max from the configuration, the vhost and user connection limits, the user
 * channel limit and the vhost queue limit over AMQP (connection.close 530 / channel.close
 * 406, each with a warn line), and the broker-wide max_message_size on every protocol (AMQP
 * 406, MQTT CONNACK Maximum Packet Size then DISCONNECT 0x95 / close, STOMP ERROR).
 */
import { resetLimits } from '../helpers/limits.js';
import amqp from 'amqplib';
import type { IConnackPacket, IDisconnectPacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawAmqpClient } from '../helpers/raw-amqp-client.js';
import { startThreeProtocols, eventually, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { CONNECT_V4, CONNECT_V5, RawClient as RawMqtt } from '../plugins/mqtt/helpers.js';
import { RawClient as RawStomp } from '../plugins/stomp/helpers.js';

const MAX_MESSAGE = 4096;
let b: ThreeProtocolBroker;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  b = await startThreeProtocols({ connectionMax: 2, maxMessageSize: MAX_MESSAGE, auth: { failureDelay: 0 } });
});
afterEach(async () => {
  for (const close of closers.splice(0)) await Promise.resolve(close()).catch(() => {});
  await resetLimits(b.broker.core);
});
afterAll(async () => {
  await b?.stop();
});

/** connection.close the server answers a handshake of guest's with */
async function amqpRefusal(): Promise<{ replyCode: number; replyText: string } | null> {
  const raw = await RawAmqpClient.open('127.0.0.1', b.amqpPort);
  try {
    await raw.handshake().catch(() => {});
    return (await raw.readUntilClose(5000)).connectionClose;
  } finally {
    raw.destroy();
  }
}

async function amqpConnect() {
  const c = await amqp.connect(b.amqpUrl());
  c.on('error', () => {});
  closers.push(() => c.close());
  return c;
}

function warned(pattern: RegExp, from: number): boolean {
  return b.logs.slice(from).some((l) => l.level === 'warn' && pattern.test(JSON.stringify(l)));
}

/** A refusal leaves a line at the default level (info) or above, never only at debug. */
function logged(pattern: RegExp, from: number): boolean {
  return b.logs.slice(from).some((l) => (l.level === 'info' || l.level === 'warn' || l.level === 'error') && pattern.test(JSON.stringify(l)));
}

describe('AMQP', () => {
  it('connection_max from the configuration refuses the next connection with 530, logged', async () => {
    expect(b.broker.core.limits.maxConnections).toBe(2);
    const from = b.logs.length;
    await amqpConnect();
    await amqpConnect();
    expect(await amqpRefusal()).toMatchObject({ replyCode: 530, replyText: expect.stringMatching(/connection limit \(2\) is reached/) });
    await eventually(() => warned(/connection limit \(2\) is reached/, from), 5000, 'the warn line');
  });

  it('the vhost and user connection limits refuse with 530', async () => {
    b.broker.core.limits.maxConnections = -1;
    await amqpConnect();
    b.broker.core.setVhostLimits('/', { maxConnections: 1 });
    expect(await amqpRefusal()).toMatchObject({ replyCode: 530, replyText: expect.stringMatching(/access to vhost '\/' refused for user 'guest': connection limit \(1\) is reached/) });
    b.broker.core.setVhostLimits('/', { maxConnections: -1 });
    b.broker.core.limits.setUserLimits('guest', { maxConnections: 1 });
    expect(await amqpRefusal()).toMatchObject({ replyCode: 530, replyText: expect.stringMatching(/User connection limit \(1\) is reached/) });
  });

  it("the user's channel limit closes the connection with 530 at the channel too many", async () => {
    b.broker.core.limits.maxConnections = -1;
    b.broker.core.limits.setUserLimits('guest', { maxChannels: 2 });
    const from = b.logs.length;
    const c = await amqpConnect();
    await c.createChannel();
    await c.createChannel();
    const closed = new Promise<Error>((resolve) => c.once('error', resolve));
    await expect(c.createChannel()).rejects.toThrow();
    expect(String(await closed)).toMatch(/530.*maximum allowed user limit of \(2\)/);
    await eventually(() => warned(/maximum allowed user limit/, from), 5000, 'the warn line');
  });

  it('the vhost queue limit refuses queue.declare with channel.close 406; the connection carries on', async () => {
    b.broker.core.limits.maxConnections = -1;
    const c = await amqpConnect();
    const count = b.broker.core.vhosts.get('/')!.queues.size;
    b.broker.core.setVhostLimits('/', { maxQueues: count + 1 });
    const ch = await c.createChannel();
    await ch.assertQueue('limits.q1', { autoDelete: true });
    const ch2 = await c.createChannel();
    ch2.on('error', () => {});
    await expect(ch2.assertQueue('limits.q2')).rejects.toThrow(/406.*queue limit in vhost '\/' \(\d+\) is reached/);
    await ch.checkQueue('limits.q1');
    await ch.deleteQueue('limits.q1');
  });

  it('a message over max_message_size is refused with channel.close 406', async () => {
    b.broker.core.limits.maxConnections = -1;
    const from = b.logs.length;
    const c = await amqpConnect();
    const ch = await c.createChannel();
    ch.on('error', () => {});
    const closed = new Promise<Error>((resolve) => ch.once('close', () => resolve(new Error('closed'))));
    ch.sendToQueue('limits.none', Buffer.alloc(MAX_MESSAGE + 1));
    await closed;
    await expect(ch.checkQueue('limits.none')).rejects.toThrow();
    const ok = await c.createChannel();
    ok.sendToQueue('limits.none', Buffer.alloc(MAX_MESSAGE)); // at the limit: fine
    await ok.close();
    expect(logged(/channel error.*406/, from)).toBe(true);
  });
});

describe.each([4, 5] as const)('MQTT %s', (version) => {
  it('max_message_size caps the packet size: a larger PUBLISH ends the connection (5.0: DISCONNECT 0x95, advertised in CONNACK)', async () => {
    b.broker.core.limits.maxConnections = -1;
    const from = b.logs.length;
    const c = await RawMqtt.open(b.mqttPort, version);
    closers.push(() => c.destroy());
    c.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: `big-${version}` }, version);
    const connack = (await c.next('connack', 5000)) as IConnackPacket;
    if (version === 5) expect(connack.properties?.maximumPacketSize).toBe(MAX_MESSAGE);
    c.send({ cmd: 'publish', topic: 'limits/small', qos: 0, payload: Buffer.alloc(100), retain: false, dup: false }, version);
    c.send({ cmd: 'publish', topic: 'limits/big', qos: 0, payload: Buffer.alloc(MAX_MESSAGE + 1), retain: false, dup: false }, version);
    if (version === 5) expect(((await c.next('disconnect', 5000)) as IDisconnectPacket).reasonCode).toBe(0x95);
    expect(await c.waitClosed(5000)).toBe(true);
    expect(logged(/closing MQTT connection.*(exceeds the maximum|too large)/, from)).toBe(true);
  });
});

describe('STOMP', () => {
  it('a SEND whose body is over max_message_size gets ERROR with its receipt id, then the connection closes', async () => {
    b.broker.core.limits.maxConnections = -1;
    const from = b.logs.length;
    const [c] = await RawStomp.login(b.stompPort);
    closers.push(() => c.close());
    c.send('SEND', { destination: '/queue/limits.stomp', receipt: 'small', 'content-length': String(MAX_MESSAGE) }, Buffer.alloc(MAX_MESSAGE, 'a'));
    expect((await c.next(5000)).headers['receipt-id']).toBe('small');
    c.send('SEND', { destination: '/queue/limits.stomp', receipt: 'big', 'content-length': String(MAX_MESSAGE + 1) }, Buffer.alloc(MAX_MESSAGE + 1, 'a'));
    const f = await c.next(5000);
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toBe('Message too large');
    expect(f.headers['receipt-id']).toBe('big');
    expect(f.body.toString()).toMatch(/larger than configured max size 4096/);
    await c.waitClosed(5000);
    expect(logged(/STOMP error frame sent.*Message too large/, from)).toBe(true);
  });

  it('connection_max holds for STOMP too: ERROR naming the limit, logged', async () => {
    b.broker.core.limits.maxConnections = 0;
    const from = b.logs.length;
    const c = await RawStomp.connect(b.stompPort);
    closers.push(() => c.close());
    c.send('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest' });
    const f = await c.next(5000);
    expect(f.command).toBe('ERROR');
    expect(f.body.toString()).toMatch(/connection limit \(0\) is reached/);
    expect(warned(/STOMP connection refused.*connection limit/, from)).toBe(true);
  });
});
