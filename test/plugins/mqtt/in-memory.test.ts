/**
 * The MQTT front-end over an in-memory stream pair (`Broker.accept`), no socket: CONNECT,
 * a QoS 1 SUBSCRIBE and PUBLISH delivered back, a malformed packet, and the graceful stop's
 * DISCONNECT, driven by raw packets from mqtt-packet (test/plugins/mqtt/helpers.ts RawClient).
 * The socket tests cover the same over TCP and WebSocket; these show the connection needs
 * nothing of a socket.
 */
import type { IConnackPacket, IDisconnectPacket, IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryConnection } from '../../helpers/memory-pair.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';
import { CONNECT_V5, RawClient } from './helpers.js';

let b: ThreeProtocolBroker;
beforeAll(async () => {
  b = await startThreeProtocols();
});
afterAll(async () => {
  await b?.stop();
});

async function connected(clientId: string, broker = b): Promise<RawClient> {
  const raw = RawClient.over(inMemoryConnection(broker.broker, 'mqtt'), 5);
  raw.send({ ...CONNECT_V5, clientId }, 5);
  const connack = (await raw.next('connack')) as IConnackPacket;
  expect(connack.reasonCode).toBe(0);
  return raw;
}

describe('MQTT over an in-memory stream', () => {
  it('connects, subscribes, and gets its own QoS 1 publish back', async () => {
    const raw = await connected('in-memory-1');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'in-memory/#', qos: 1 }] }, 5);
    expect((await raw.next('suback')).granted).toEqual([1]);
    raw.send({ cmd: 'publish', topic: 'in-memory/t', payload: Buffer.from('over a duplex pair'), qos: 1, messageId: 2, retain: false, dup: false }, 5);
    expect((await raw.next('puback')).messageId).toBe(2);
    const delivered = (await raw.next('publish')) as IPublishPacket;
    expect(delivered.topic).toBe('in-memory/t');
    expect(delivered.payload.toString()).toBe('over a duplex pair');
    raw.send({ cmd: 'disconnect', reasonCode: 0 }, 5);
    expect(await raw.waitClosed()).toBe(true);
  });

  it('reserved header flags are a malformed packet: DISCONNECT 0x81, then the stream ends', async () => {
    const raw = await connected('in-memory-2');
    raw.write([0x82, 0x00]); // SUBSCRIBE's flags must be 0b0010 (MQTT-3.8.1-1); 0b0000 here, no body
    expect(await raw.waitClosed()).toBe(true);
    const disconnect = raw.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
    expect(disconnect?.reasonCode).toBe(0x81);
  });

  it('stopping the broker tells an in-memory MQTT 5 client why (0x8B Server shutting down)', async () => {
    const own = await startThreeProtocols();
    const raw = await connected('in-memory-3', own);
    await own.stop();
    expect(await raw.waitClosed()).toBe(true);
    const disconnect = raw.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
    expect(disconnect?.reasonCode).toBe(0x8b);
  });
});
