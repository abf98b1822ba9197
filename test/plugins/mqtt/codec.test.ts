import mqttPacket, { type Packet } from 'mqtt-packet';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encode, encodePublish, packetSize, type ProtocolVersion } from '../../../plugins/mqtt/codec.js';

describe('encodePublish (the delivery fast path)', () => {
  it('gives the same bytes as mqtt-packet for every QoS, flag, version and length class', () => {
    const topics = ['a', 'sensors/kitchen/temp', 'ünïcødé/トピック', 'x'.repeat(300)];
    // payload lengths around the variable-length integer boundaries (MQTT 5 §1.5.5)
    const sizes = [0, 1, 100, 125, 126, 127, 128, 16_370, 16_383, 16_384, 2_097_140, 2_097_152];
    let checked = 0;
    for (const version of [3, 4, 5] as ProtocolVersion[]) {
      for (const topic of topics) {
        for (const size of sizes) {
          for (const qos of [0, 1, 2] as const) {
            const payload = Buffer.alloc(size, 0x61);
            const dup = qos > 0 && size % 2 === 0;
            const retain = size % 3 === 0;
            const messageId = qos > 0 ? 1 + ((size * 7) % 65535) : 0;
            const packet: Packet = { cmd: 'publish', topic, payload, qos, dup, retain, ...(qos > 0 ? { messageId } : {}) };
            const expected = mqttPacket.generate(packet, { protocolVersion: version });
            const got = encodePublish(topic, payload, qos, dup, retain, messageId, version);
            expect(got.equals(expected), `v${version} qos${qos} topic ${topic.length} size ${size}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(3 * 4 * 12 * 3);
  });
});

describe('encode', () => {
  it('matches mqtt-packet generate for the packets a server sends', () => {
    const packets: [Packet, ProtocolVersion][] = [
      [{ cmd: 'connack', returnCode: 0, sessionPresent: true }, 4],
      [{ cmd: 'connack', reasonCode: 0x86, sessionPresent: false, properties: { reasonString: 'no' } }, 5],
      [{ cmd: 'suback', messageId: 3, granted: [0, 1, 2, 0x80] }, 4],
      [{ cmd: 'unsuback', messageId: 4, granted: [0, 0x11] }, 5],
      [{ cmd: 'puback', messageId: 9, reasonCode: 0x10 }, 5],
      [{ cmd: 'pubrel', messageId: 9 }, 4],
      [{ cmd: 'disconnect', reasonCode: 0x8e }, 5],
      [{ cmd: 'pingresp' }, 4],
      [{ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, dup: false, retain: false, messageId: 2, properties: { userProperties: { a: ['1', '2'] }, subscriptionIdentifier: [3, 4], messageExpiryInterval: 5 } }, 5],
    ];
    for (const [p, version] of packets) {
      expect(encode(p, version)!.equals(mqttPacket.generate(p, { protocolVersion: version })), p.cmd).toBe(true);
    }
  });

  it('encodes the acknowledgements (the QoS 1/2 fast path) as mqtt-packet does, for every version, id and reason code', () => {
    let checked = 0;
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
      for (const version of [3, 4, 5] as ProtocolVersion[]) {
        for (const messageId of [1, 255, 256, 0x1234, 65535]) {
          for (const reasonCode of [undefined, 0, 0x10, 0x92]) {
            const p = { cmd, messageId, ...(reasonCode === undefined ? {} : { reasonCode }) } as Packet;
            expect(encode(p, version)!.equals(mqttPacket.generate(p, { protocolVersion: version })), `${cmd} v${version} ${messageId} ${reasonCode}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(4 * 3 * 5 * 4);
  });

  it('does not keep a cache of 65,536 number buffers (mqtt-packet builds one on first use)', () => {
    encode({ cmd: 'suback', messageId: 3, granted: [0] }, 4);
    const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: object };
    expect(Object.keys(numbers.cache).length).toBe(0);
  });

  it('returns null for a packet mqtt-packet refuses, and stays usable after', () => {
    expect(encode({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, dup: false, retain: false } as Packet, 4)).toBeNull();
    expect(encode({ cmd: 'pingresp' }, 4)).toEqual(Buffer.from([0xd0, 0x00]));
  });

  it('packetSize counts the fixed header', () => {
    expect(packetSize(0)).toBe(2);
    expect(packetSize(127)).toBe(129);
    expect(packetSize(128)).toBe(131);
    expect(packetSize(16_384)).toBe(16_388);
  });
});
