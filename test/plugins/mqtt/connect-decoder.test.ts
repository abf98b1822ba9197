import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodeWholeConnect } from '../../../plugins/mqtt/connect-decoder.js';

/** What mqtt-packet's parser makes of `bytes`: its packets, or its error. */
function mqttPacketReads(bytes: Buffer): { packets: Packet[]; error: Error | null } {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  let error: Error | null = null;
  parser.on('packet', (p: Packet) => packets.push(p));
  parser.on('error', (e: Error) => (error ??= e));
  parser.parse(bytes);
  return { packets, error };
}

/** Every CONNECT a 3.1 / 3.1.1 client may send, over the fields' length classes, with its bytes (mqtt-packet's generator). */
function connects(): { packet: IConnectPacket; bytes: Buffer }[] {
  const out: { packet: IConnectPacket; bytes: Buffer }[] = [];
  for (const packet of candidates()) {
    try {
      out.push({ packet, bytes: mqttPacket.generate(packet, { protocolVersion: packet.protocolVersion }) });
    } catch {
      // one no client sends (mqtt-packet refuses it: an empty client id in 3.1, a password without a user name in 3.1.1)
    }
  }
  return out;
}

function candidates(): IConnectPacket[] {
  const out: IConnectPacket[] = [];
  const ids = ['', 'd', 'device-000123', 'ünïcødé/デバイス', 'x'.repeat(300)];
  const wills = [undefined, { topic: 'lwt/d', payload: Buffer.from('gone'), qos: 1 as const, retain: true }, { topic: 't', payload: Buffer.alloc(0), qos: 2 as const, retain: false }, { topic: 'big', payload: Buffer.alloc(200, 7), qos: 0 as const, retain: false }];
  const logins: { username?: string; password?: Buffer }[] = [{}, { username: 'guest', password: Buffer.from('guest') }, { username: 'vhost:user' }, { username: '', password: Buffer.from([0, 255, 1]) }];
  for (const protocolVersion of [3, 4] as const) {
    for (const clientId of ids) {
      for (const will of wills) {
        for (const login of logins) {
          for (const clean of [true, false]) {
            const keepalive = clientId.length * 37 % 65536;
            out.push({ cmd: 'connect', protocolId: protocolVersion === 4 ? 'MQTT' : 'MQIsdp', protocolVersion, clean, keepalive, clientId, ...(will ? { will } : {}), ...login });
          }
        }
      }
    }
  }
  return out;
}

describe('decodeWholeConnect (the first read of a connection)', () => {
  it('reads every 3.1 / 3.1.1 CONNECT as mqtt-packet does, and says where the next packet starts', () => {
    const subscribe = mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 1 }] });
    let checked = 0;
    for (const { packet, bytes } of connects()) {
      const expected = mqttPacketReads(bytes);
      expect(expected.error).toBeNull();
      const got = decodeWholeConnect(bytes);
      expect(got, `${packet.protocolVersion} ${packet.clientId.length}`).not.toBeNull();
      expect(got!.packet).toEqual(expected.packets[0]);
      expect(got!.end).toBe(bytes.length);
      // CONNECT and SUBSCRIBE in one write (idle-opener.mjs, many devices)
      const both = decodeWholeConnect(Buffer.concat([bytes, subscribe]));
      expect(both!.end).toBe(bytes.length);
      expect(both!.packet).toEqual(expected.packets[0]);
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('leaves to mqtt-packet what it does not read: MQTT 5, a split CONNECT, other packets', () => {
    const v5 = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 60, clientId: 'd', properties: { sessionExpiryInterval: 10 } }, { protocolVersion: 5 });
    expect(decodeWholeConnect(v5)).toBeNull();
    const v4 = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'device-1', username: 'u', password: Buffer.from('p') });
    for (let cut = 0; cut < v4.length; cut++) expect(decodeWholeConnect(v4.subarray(0, cut))).toBeNull();
    expect(decodeWholeConnect(mqttPacket.generate({ cmd: 'pingreq' }))).toBeNull();
  });

  it('never reads damaged bytes otherwise than mqtt-packet: where it answers, mqtt-packet reads the same packet without an error', () => {
    const samples = connects().map((c) => c.bytes).filter((b) => b.length < 2000);
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    let answered = 0;
    let refused = 0;
    for (let i = 0; i < 6000; i++) {
      const bytes = Buffer.from(samples[i % samples.length]!);
      // one to three bytes changed, anywhere in the header, flags, lengths or fields
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) bytes[Math.floor(random() * Math.min(bytes.length, 40))] = Math.floor(random() * 256);
      const got = decodeWholeConnect(bytes);
      if (got === null) {
        refused++;
        continue;
      }
      const expected = mqttPacketReads(bytes.subarray(0, got.end));
      expect(expected.error).toBeNull();
      expect(got.packet).toEqual(expected.packets[0]);
      answered++;
    }
    // both kinds occur: the test would not pass by answering nothing
    expect(answered).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });
});
