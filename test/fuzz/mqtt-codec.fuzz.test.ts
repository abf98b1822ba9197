/**
 * Property-based fuzzing of MQTT packet parsing (plugins/mqtt/codec.ts over mqtt-packet) and
 * of the broker's own PUBLISH encoder, with fast-check. Complements test/plugins/mqtt/fuzz.test.ts
 * (random streams at a live broker).
 *
 * Properties:
 *  - valid 3.1.1 and 5.0 packets, generated and cut at arbitrary boundaries, parse back to the
 *    same packets (and encodePublish, the hot-path encoder, agrees with the parser);
 *  - the connection's framing (plugins/mqtt/read-framing.ts `readFixedHeader`) finds every
 *    generated packet's boundary, as mqtt-packet wrote it;
 *  - mutated streams (bit flips, truncations, splices, remaining-length bytes at extremes):
 *    the parser emits packets or an 'error' event, never throws, and the framing reads a
 *    declared length from a fixed header before its body arrives (the connection refuses an
 *    oversized packet from it, see read-framing.ts), never one past the 4-byte maximum.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createParser, encode, encodePublish, packetSize, type Packet } from '../../plugins/mqtt/codec.js';
import { readFixedHeader, type FixedHeader } from '../../plugins/mqtt/read-framing.js';
import { id, payload, qos, remainingLengthFields, streamArb, topic, version } from './mqtt-arbitraries.js';
import { chunked, mutated, params } from './fuzz-config.js';

/**
 * Walk the fixed headers of a byte stream as the connection's framing does: the packets'
 * total sizes, the largest remaining length declared, and how the walk ended.
 */
function frames(bytes: Buffer): { sizes: number[]; declared: number; end: 'boundary' | 'cut' | 'malformed' } {
  const h: FixedHeader = { first: 0, remaining: 0, size: 0 };
  const sizes: number[] = [];
  let declared = -1;
  for (let at = 0; at < bytes.length; ) {
    const r = readFixedHeader(bytes, at, h);
    if (r !== 1) return { sizes, declared, end: r === 0 ? 'cut' : 'malformed' };
    declared = Math.max(declared, h.remaining);
    sizes.push(h.size + h.remaining);
    at += h.size + h.remaining;
    if (at > bytes.length) return { sizes, declared, end: 'cut' };
  }
  return { sizes, declared, end: 'boundary' };
}

/** Parse chunks; returns the packets, the parser errors, and the largest length a fixed header declared (read-framing.ts) before the parse error, if any. */
function parse(chunks: Buffer[]): { packets: Packet[]; errors: Error[]; declared: number } {
  const parser = createParser();
  const packets: Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p: Packet) => {
    packets.push(p);
    // the connection tells the parser which version CONNECT chose
    if (p.cmd === 'connect') (parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = p.protocolVersion ?? 4;
  });
  parser.on('error', (e: Error) => errors.push(e));
  let seen = 0;
  for (const c of chunks) {
    parser.parse(c);
    seen += c.length;
    if (errors.length > 0) break; // the connection closes on the first parse error
  }
  return { packets, errors, declared: frames(Buffer.concat(chunks).subarray(0, seen)).declared };
}

describe('MQTT codec (property-based)', () => {
  it('valid packets in arbitrary chunks parse back to the same packets', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 12 }), ({ packets, bytes }, cuts) => {
        const { packets: out, errors } = parse(chunked(bytes, cuts));
        expect(errors).toEqual([]);
        expect(out.map((p) => p.cmd)).toEqual(packets.map((p) => p.cmd));
        out.forEach((p, i) => {
          const want = packets[i] as unknown as Record<string, unknown>;
          const got = p as unknown as Record<string, unknown>;
          for (const k of ['topic', 'qos', 'retain', 'messageId', 'clientId', 'keepalive', 'subscriptions', 'unsubscriptions']) {
            if (want[k] !== undefined) expect(k === 'subscriptions' ? (got[k] as { topic: string; qos: number }[]).map(({ topic, qos }) => ({ topic, qos })) : got[k]).toEqual(want[k]);
          }
          if (want.payload !== undefined) expect(Buffer.compare(got.payload as Buffer, want.payload as Buffer)).toBe(0);
        });
      }),
      params('mqtt valid stream round trip'),
    );
  });

  it("the framing's fixed-header walk ends on every generated packet's boundary", () => {
    fc.assert(
      fc.property(streamArb, ({ version: v, packets, bytes }) => {
        const f = frames(bytes);
        expect(f.end).toBe('boundary');
        expect(f.sizes).toEqual(packets.map((p) => encode(p, v)!.length));
      }),
      params('mqtt framing of valid streams'),
    );
  });

  it('encodePublish writes what mqtt-packet writes, and it parses back', () => {
    fc.assert(
      fc.property(version, topic, payload, qos, fc.boolean(), fc.boolean(), id, (v, t, body, q, dup, retain, mid) => {
        const ours = encodePublish(t, body, q, dup, retain, mid, v);
        const theirs = encode({ cmd: 'publish', topic: t, payload: body, qos: q, dup, retain, messageId: q > 0 ? mid : undefined, ...(v === 5 ? { properties: {} } : {}) } as Packet, v);
        expect(theirs).not.toBeNull();
        expect(ours.equals(theirs!)).toBe(true);
        const { packets, errors } = parse([encode({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'x', clean: true, keepalive: 0 }, v)!, ours]);
        expect(errors).toEqual([]);
        const back = packets[1] as { topic: string; payload: Buffer; qos: number; retain: boolean };
        expect([back.topic, back.qos, back.retain, Buffer.compare(back.payload, body)]).toEqual([t, q, retain, 0]);
        expect(packetSize(ours.length - 1 - (ours.length - 1 < 128 ? 1 : ours.length - 2 < 16384 ? 2 : 3))).toBe(ours.length);
      }),
      params('mqtt encodePublish'),
    );
  });

  it('mutated streams: packets or an error event, never a throw, the declared length seen before its body', () => {
    const arb = mutated(streamArb.map((s) => s.bytes), remainingLengthFields);
    fc.assert(
      fc.property(arb, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        const chunks = chunked(bytes, cuts);
        const { packets, errors, declared } = parse(chunks);
        for (const p of packets) expect(typeof p.cmd).toBe('string');
        for (const e of errors) expect(e).toBeInstanceOf(Error);
        // a declared remaining length is at most the 4-byte variable integer's maximum
        expect(declared).toBeLessThanOrEqual(268_435_455);
      }),
      params('mqtt mutated stream', 2),
    );
  });

  it('regression (found by fuzzing): a packet mqtt-packet refuses without an error is null, not empty', () => {
    expect(encode({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false, properties: { userProperties: {} } } as Packet, 5)).toBeNull();
    expect(encode({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 1, messageId: 1, retain: false, dup: false, properties: { userProperties: { k: [] } } } as Packet, 5)).toBeNull();
  });

  it('a fixed header declaring 256 MB is reported before any body byte', () => {
    const { declared, errors } = parse([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])]);
    expect(errors).toEqual([]);
    expect(declared).toBe(268_435_455);
    // a fifth length byte is malformed (§1.5.5), a cut one is waited for
    expect(frames(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])).end).toBe('malformed');
    expect(frames(Buffer.from([0x30, 0xff, 0xff])).end).toBe('cut');
  });
});
