/**
 * The connection's own reading of fixed headers (plugins/mqtt/read-framing.ts), which frames
 * packets for mqtt-packet and takes a PUBLISH above `large_message_threshold` out of the stream
 * (inbound-body.ts) without touching mqtt-packet's private parser state.
 *
 * Byte fixtures both ways: the remaining-length encodings of MQTT 3.1.1 table 2.4 (MQTT 5.0
 * §1.5.5) decode to their values, and are what mqtt-packet writes for PUBLISH packets of those
 * sizes; a header cut at every byte waits for the rest, a fifth length byte is malformed.
 * Then over an in-memory stream (each write one read): streamed PUBLISH packets whose fixed
 * header, variable header or payload are cut at many places, between whole and split small
 * packets, reach a subscriber intact, the large ones through the journal.
 */
import { createHash, randomBytes } from 'node:crypto';
import mqttPacket, { type IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFixedHeader, type FixedHeader } from '../../../plugins/mqtt/read-framing.js';
import type { FileStore } from '../../../src/store/file-store.js';
import { inMemoryConnection } from '../../helpers/memory-pair.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';
import { CONNECT_V4, CONNECT_V5, RawClient } from './helpers.js';

/** MQTT 3.1.1 table 2.4: remaining lengths at the edges of each encoded width */
const TABLE_2_4: [value: number, bytes: number[]][] = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16_383, [0xff, 0x7f]],
  [16_384, [0x80, 0x80, 0x01]],
  [2_097_151, [0xff, 0xff, 0x7f]],
  [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
];

const h = (): FixedHeader => ({ first: -1, remaining: -1, size: -1 });

describe('fixed headers read by the framing', () => {
  it.each(TABLE_2_4)('remaining length %i: decoded from its bytes, cut at every byte waits for the rest', (value, bytes) => {
    const b = Buffer.from([0x32, ...bytes, 0xaa]); // PUBLISH QoS 1, then a byte of what follows
    const out = h();
    expect(readFixedHeader(b, 0, out)).toBe(1);
    expect(out).toEqual({ first: 0x32, remaining: value, size: 1 + bytes.length });
    // the same header further into a read
    const later = Buffer.concat([Buffer.from([1, 2, 3]), b]);
    expect(readFixedHeader(later, 3, out)).toBe(1);
    expect(out.remaining).toBe(value);
    for (let cut = 0; cut < 1 + bytes.length; cut++) expect(readFixedHeader(b.subarray(0, cut), 0, h())).toBe(0);
  });

  it.each(TABLE_2_4.filter(([value]) => value >= 16 && value <= 2_097_152))('mqtt-packet writes a PUBLISH of remaining length %i with the bytes the framing reads', (value, bytes) => {
    // topic 'a/b' (2 + 3 bytes) and packet id (2): the payload makes up the rest
    const packet: IPublishPacket = { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(value - 7, 0x61), qos: 1, messageId: 9, dup: false, retain: false };
    const wire = mqttPacket.generate(packet);
    expect([...wire.subarray(1, 1 + bytes.length)]).toEqual(bytes);
    const out = h();
    expect(readFixedHeader(wire, 0, out)).toBe(1);
    expect(out).toEqual({ first: 0x32, remaining: value, size: 1 + bytes.length });
    expect(out.size + out.remaining).toBe(wire.length);
  });

  it('a fifth remaining-length byte is malformed; mqtt-packet refuses it too', () => {
    const b = Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(readFixedHeader(b, 0, h())).toBe(-1);
    const errors: Error[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('error', (e: Error) => errors.push(e));
    parser.parse(b);
    expect(errors.length).toBe(1);
  });
});

const THRESHOLD = 64 * 1024; // the smallest large_message_threshold allowed
let b: ThreeProtocolBroker;
beforeAll(async () => {
  b = await startThreeProtocols({ largeMessageThreshold: THRESHOLD });
});
afterAll(async () => {
  await b?.stop();
});

const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

describe.each([4, 5] as const)('streamed PUBLISH cut anywhere (MQTT %s, in-memory stream, one read per write)', (version) => {
  it('fixed header, variable header and payload cut at many places, between whole and split small packets: all arrive intact', async () => {
    const connect = version === 5 ? CONNECT_V5 : CONNECT_V4;
    const sub = RawClient.over(inMemoryConnection(b.broker, 'mqtt'), version);
    sub.send({ ...connect, clientId: `frame-sub-${version}` }, version);
    await sub.next('connack');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `frame${version}/#`, qos: 0 }] }, version);
    await sub.next('suback');
    const got: IPublishPacket[] = [];
    const pub = RawClient.over(inMemoryConnection(b.broker, 'mqtt'), version);
    pub.send({ ...connect, clientId: `frame-pub-${version}` }, version);
    await pub.next('connack');

    const journal = b.broker.core.vhosts.get('/')!.store!.messages as FileStore;
    const partsBefore = journal.metrics().records.other;
    const opts = { protocolVersion: version };
    const small = (i: number) => mqttPacket.generate({ cmd: 'publish', topic: `frame${version}/small`, payload: Buffer.from(`s${i}`), qos: 0, dup: false, retain: false }, opts);
    const bodies: Buffer[] = [];
    const expected: string[] = [];
    // where the streamed packet is cut: inside the fixed header (1..4), in the variable header, in the payload
    const cuts = [1, 2, 3, 4, 6, 9, 40, 5000];
    for (const [i, cut] of cuts.entries()) {
      const body = randomBytes(THRESHOLD + 1000 + i * 7919);
      bodies.push(body);
      const big = mqttPacket.generate({
        cmd: 'publish', topic: `frame${version}/big`, payload: body, qos: 1, messageId: 10 + i, dup: false, retain: false,
        ...(version === 5 ? { properties: { contentType: 'application/x-frame', userProperties: { cut: String(cut) } } } : {}),
      }, opts);
      expect(readFixedHeader(big, 0, h())).toBe(1);
      const s1 = small(2 * i);
      const s2 = small(2 * i + 1);
      // a small packet split across reads, the rest of it with the streamed packet's first bytes
      pub.write(s1.subarray(0, 3));
      pub.write(Buffer.concat([s1.subarray(3), big.subarray(0, cut)]));
      // the rest of the streamed packet in pieces, the last with a whole small packet behind it
      const rest = big.subarray(cut);
      const piece = Math.ceil(rest.length / 3);
      pub.write(rest.subarray(0, piece));
      pub.write(rest.subarray(piece, 2 * piece));
      pub.write(Buffer.concat([rest.subarray(2 * piece), s2]));
      expected.push(`s${2 * i}`, `big:${sha(body)}`, `s${2 * i + 1}`);
      expect((await pub.next('puback', 10_000)).messageId).toBe(10 + i);
    }
    while (got.length < expected.length) got.push((await sub.next('publish', 10_000)) as IPublishPacket);
    expect(got.map((p) => (p.topic.endsWith('/big') ? `big:${sha(p.payload as Buffer)}` : p.payload.toString()))).toEqual(expected);
    if (version === 5) expect(got.filter((p) => p.topic.endsWith('/big')).every((p) => p.properties?.contentType === 'application/x-frame')).toBe(true);
    // every big one went to the journal in parts, none through the parser's buffer
    const parts = bodies.reduce((n, body) => n + Math.ceil(body.length / (256 * 1024)), 0);
    expect(journal.metrics().records.other - partsBefore).toBe(parts);
    expect(sub.closed || pub.closed).toBe(false);
    sub.destroy();
    pub.destroy();
  });

  it('a packet above the maximum size is refused from its fixed header, even cut inside it', async () => {
    const raw = RawClient.over(inMemoryConnection(b.broker, 'mqtt'), version);
    // before CONNECT the unauthenticated maximum (64 KiB) applies: a CONNECT of 1 MiB is refused before any body byte
    raw.write([0x10, 0x80]);
    raw.write([0x80, 0x40]);
    expect(await raw.waitClosed(5000)).toBe(true);
  });
});
