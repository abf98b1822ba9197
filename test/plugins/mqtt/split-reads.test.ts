/**
 * Connections share one parser between reads (plugins/mqtt/parsers.ts) and keep one only
 * while a packet is split across reads: a packet that arrives a byte at a time on one
 * connection, while other connections of other protocol versions send whole packets in
 * between, is parsed right on every connection, with each connection's own version.
 */
import mqttPacket, { type IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_V4, CONNECT_V5, Clients, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker();
});
afterAll(() => b.stop());

const publish = (topic: string, payload: string, properties?: IPublishPacket['properties']): IPublishPacket => ({
  cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, dup: false, retain: false, ...(properties ? { properties } : {}),
});

describe('reads that split packets', () => {
  it('parses a v5 packet sent a byte at a time while v4 connections send whole packets in between', async () => {
    const clients = new Clients(b.url);
    const watcher = await clients.connect({ clientId: 'split-watch', protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync('split/#', { qos: 0 });
    const slow = await RawClient.open(b.tcpPort, 5);
    const fast = await RawClient.open(b.tcpPort, 4);
    try {
      slow.send({ ...CONNECT_V5, clientId: 'split-slow' }, 5);
      fast.send({ ...CONNECT_V4, clientId: 'split-fast' }, 4);
      await slow.next('connack');
      await fast.next('connack');
      // a v5 PUBLISH with properties, one byte per write, each read on its own
      const bytes = mqttPacket.generate(publish('split/slow', 'from the slow one', { contentType: 'text/plain', userProperties: { k: 'v' } }), { protocolVersion: 5 });
      for (let i = 0; i < bytes.length; i++) {
        slow.write([bytes[i]]);
        // whole v4 packets from the other connection between the slow one's bytes
        if (i % 7 === 0) fast.send(publish('split/fast', `f${i}`), 4);
        await sleep(2);
      }
      const expected = 1 + Math.floor((bytes.length - 1) / 7) + 1;
      await inbox.waitFor(expected, 5000);
      const slowOnes = inbox.messages.filter((m) => m.topic === 'split/slow');
      expect(slowOnes.map((m) => m.payload)).toEqual(['from the slow one']);
      expect(slowOnes[0].packet.properties?.contentType).toBe('text/plain');
      expect(slowOnes[0].packet.properties?.userProperties).toEqual({ k: 'v' });
      expect(inbox.messages.filter((m) => m.topic === 'split/fast')).toHaveLength(expected - 1);
      expect(slow.closed || fast.closed).toBe(false);
    } finally {
      slow.destroy();
      fast.destroy();
      await clients.closeAll();
    }
  });
});
