/**
 * Bad input: the offending client is disconnected with the right reason (MQTT 5) or closed
 * (3.1.1), and the broker and its other clients carry on.
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
let healthy: Inbox;
let round = 0;
beforeAll(async () => {
  b = await startMqttBroker({ max_packet_size_unauthenticated: 512 });
  clients = new Clients(b.url);
  const watcher = await clients.connect({ clientId: 'healthy', protocolVersion: 5 });
  healthy = new Inbox(watcher);
  await watcher.subscribeAsync('health/#', { qos: 1 });
});
afterEach(async () => {
  // the broker still serves everybody else
  const p = await clients.connect({ clientId: `prober-${++round}` });
  await p.publishAsync(`health/${round}`, 'ok', { qos: 1 });
  await healthy.waitFor(round);
  await p.endAsync();
});
afterAll(async () => {
  await clients.closeAll();
  await b?.stop();
});

async function connected(version: 4 | 5, clientId: string): Promise<RawClient> {
  const raw = await RawClient.open(b.tcpPort, version);
  raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId }, version);
  await raw.next('connack');
  return raw;
}

async function expectDisconnect(raw: RawClient, version: 4 | 5, reasonCode: number): Promise<void> {
  expect(await raw.waitClosed()).toBe(true);
  const disconnect = raw.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
  if (version === 5) expect(disconnect?.reasonCode).toBe(reasonCode);
  else expect(disconnect).toBeUndefined();
}

describe('before CONNECT', () => {
  it('a PUBLISH first closes the connection without a reply (MQTT-3.1.0-1)', async () => {
    const raw = await RawClient.open(b.tcpPort);
    raw.send({ cmd: 'publish', topic: 'health/x', payload: Buffer.from('sneaky'), qos: 0, retain: false, dup: false });
    expect(await raw.waitClosed()).toBe(true);
    expect(raw.packets).toHaveLength(0);
  });

  it('garbage first closes the connection', async () => {
    const raw = await RawClient.open(b.tcpPort);
    raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await raw.waitClosed()).toBe(true);
  });

  it('an oversized CONNECT is refused before it is read (max_packet_size_unauthenticated)', async () => {
    const raw = await RawClient.open(b.tcpPort);
    // fixed header announcing 100 000 bytes, then only a little of them
    raw.write([0x10, 0xa0, 0x8d, 0x06, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]);
    expect(await raw.waitClosed()).toBe(true);
  });
});

describe.each([4, 5] as const)('after CONNECT, MQTT %s', (version) => {
  it('a second CONNECT is a protocol error (MQTT-3.1.0-2): 0x82', async () => {
    const raw = await connected(version, `twice-${version}`);
    raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: `twice-${version}` }, version);
    await expectDisconnect(raw, version, 0x82);
  });

  it('reserved header flags are a malformed packet (MQTT-2.2.2-2): 0x81', async () => {
    const raw = await connected(version, `flags-${version}`);
    // SUBSCRIBE must have flags 0b0010; send 0b0000
    raw.write([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]);
    await expectDisconnect(raw, version, 0x81);
  });

  it('a remaining length longer than four bytes is malformed: 0x81', async () => {
    const raw = await connected(version, `varint-${version}`);
    raw.write([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    await expectDisconnect(raw, version, 0x81);
  });

  it('a packet only servers send (CONNACK) is a protocol error: 0x82', async () => {
    const raw = await connected(version, `connack-${version}`);
    raw.send({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false }, version);
    await expectDisconnect(raw, version, 0x82);
  });

  it('a PUBLISH to a wildcard topic is refused: 0x90 Topic Name invalid', async () => {
    const raw = await connected(version, `wild-${version}`);
    raw.send({ cmd: 'publish', topic: 'health/#', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false }, version);
    await expectDisconnect(raw, version, 0x90);
  });

  it('a PUBLISH with an empty topic and no alias is refused', async () => {
    const raw = await connected(version, `empty-${version}`);
    // PUBLISH QoS 0, topic length 0, payload 'x' (MQTT 5 adds an empty property length)
    raw.write(version === 5 ? [0x30, 0x04, 0x00, 0x00, 0x00, 0x78] : [0x30, 0x03, 0x00, 0x00, 0x78]);
    await expectDisconnect(raw, version, 0x90);
  });

  it('a truncated connection in the middle of a packet is just a closed connection', async () => {
    const raw = await connected(version, `cut-${version}`);
    raw.write([0x30, 0x20, 0x00, 0x05, 0x68]);
    raw.destroy();
  });
});
