/**
 * fast-check generators of valid MQTT 3.1.1 / 5.0 packets and packet streams (CONNECT first),
 * shared by the codec and live-broker fuzz suites.
 */
import fc from 'fast-check';
import { encode, type Packet, type ProtocolVersion } from '../../plugins/mqtt/codec.js';

export const topic = fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '日', ' ', '$', 'x'), minLength: 1, maxLength: 30 });
export const filter = fc.oneof(topic, fc.constantFrom('#', '+', 'a/+/b', 'a/#', '$share/g/a/#'));
export const id = fc.integer({ min: 1, max: 65535 });
export const qos = fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>;
export const payload = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));
export const userProperties = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'), fc.string({ maxLength: 8 }), { maxKeys: 3 });

export function packetArb(v: ProtocolVersion): fc.Arbitrary<Packet> {
  const props5 = <T>(a: fc.Arbitrary<T>) => (v === 5 ? fc.option(a, { nil: undefined }) : fc.constant(undefined));
  return fc.oneof(
    fc.record({
      cmd: fc.constant('connect' as const), protocolId: fc.constant('MQTT' as const), protocolVersion: fc.constant(v), clientId: fc.string({ maxLength: 23 }), clean: fc.boolean(), keepalive: fc.integer({ min: 0, max: 65535 }),
      properties: props5(fc.record({ sessionExpiryInterval: fc.nat({ max: 0xffffffff }), receiveMaximum: fc.integer({ min: 1, max: 65535 }), topicAliasMaximum: fc.integer({ min: 0, max: 65535 }) }, { requiredKeys: [] })),
    }, { requiredKeys: ['cmd', 'protocolId', 'protocolVersion', 'clientId', 'clean', 'keepalive'] }),
    fc.record({
      cmd: fc.constant('publish' as const), topic, payload, qos, retain: fc.boolean(), dup: fc.boolean(), messageId: id,
      properties: props5(fc.record({ payloadFormatIndicator: fc.boolean(), messageExpiryInterval: fc.nat({ max: 0xffffffff }), contentType: fc.string({ maxLength: 10 }), userProperties }, { requiredKeys: [] })),
    }, { requiredKeys: ['cmd', 'topic', 'payload', 'qos', 'retain', 'dup', 'messageId'] }).map((p) => (p.qos === 0 ? { ...p, messageId: undefined, dup: false } : p) as Packet),
    fc.record({ cmd: fc.constant('subscribe' as const), messageId: id, subscriptions: fc.array(fc.record({ topic: filter, qos }), { minLength: 1, maxLength: 4 }) }),
    fc.record({ cmd: fc.constant('unsubscribe' as const), messageId: id, unsubscriptions: fc.array(filter, { minLength: 1, maxLength: 4 }) }),
    fc.record({ cmd: fc.constantFrom('puback' as const, 'pubrec' as const, 'pubrel' as const, 'pubcomp' as const), messageId: id }),
    fc.constant({ cmd: 'pingreq' as const }),
  ) as fc.Arbitrary<Packet>;
}

export const version = fc.constantFrom(4, 5) as fc.Arbitrary<4 | 5>;

/** Packets for one version, with a CONNECT first so that the parser learns the version. */
export const streamArb = version.chain((v) =>
  fc.tuple(fc.constant(v), fc.array(packetArb(v), { minLength: 1, maxLength: 6 })).map(([ver, packets]) => {
    const connect: Packet = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: ver, clientId: 'fuzz', clean: true, keepalive: 0 };
    // mqtt-packet refuses some generated packets (an empty user-property map, …): leave those out
    const all = [connect, ...packets.filter((p) => p.cmd !== 'connect')].map((p) => ({ p, b: encode(p, ver) })).filter((e) => e.b !== null);
    return { version: ver, packets: all.map((e) => e.p), bytes: Buffer.concat(all.map((e) => e.b!)) };
  }),
);

/** The byte offsets of the remaining-length field of each packet in a stream. */
export function remainingLengthFields(buf: Buffer): { at: number; width: 1 }[] {
  const out: { at: number; width: 1 }[] = [];
  for (let pos = 0; pos + 1 < buf.length; ) {
    let len = 0;
    let mul = 1;
    let i = pos + 1;
    for (; i < buf.length && i < pos + 5; i++) {
      out.push({ at: i, width: 1 });
      len += (buf[i] & 0x7f) * mul;
      mul *= 128;
      if ((buf[i] & 0x80) === 0) break;
    }
    pos = i + 1 + len;
  }
  return out;
}

