/**
 * Property-based fuzzing of the AMQP 0-9-1 codec (frame reader, method, field-table and
 * content-header decoders), with fast-check. Complements test/unit/amqp/fuzz.test.ts (plain
 * random bytes) with generated valid structures, round trips, and structured mutations.
 *
 * Properties:
 *  - field tables: any wire-valid table decodes, and re-encodes to exactly the same bytes;
 *  - methods: every method of the table with arbitrary field values survives encode → decode
 *    → encode unchanged, with the same primitive field values;
 *  - basic properties likewise;
 *  - mutated frames (bit flips, truncations, splices, length fields at extremes) pushed in
 *    arbitrary chunks through FrameReader + decoders: frames or BrokerError, nothing else, and
 *    no buffer larger than frame-max is ever allocated for a declared length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/core/errors.js';
import { decodeProperties, encodeProperties, propertiesView } from '../../src/codec/basic-properties.js';
import { decodeFieldTable, encodeFieldTable } from '../../src/codec/field-table.js';
import type { MessageProperties } from '../../src/codec/types.js';
import { FrameReader, type FrameSink } from '../../plugins/amqp/codec/frame-reader.js';
import { checkContentHeader } from '../../plugins/amqp/codec/content.js';
import { decodeMethod, encodeMethodFrame, encodeMethodPayload, type AmqpMethod } from '../../plugins/amqp/codec/methods.js';
import { METHOD_SPECS, type MethodSpec } from '../../plugins/amqp/codec/method-table.js';
import { chunked, mutated, params } from './fuzz-config.js';

// ---- generators of wire-valid bytes --------------------------------------------------------

const u8 = (n: number) => Buffer.from([n]);
const be = (n: number, width: 1 | 2 | 4) => {
  const b = Buffer.alloc(width);
  b.writeUIntBE(n, 0, width);
  return b;
};
const withLen32 = (body: Buffer) => Buffer.concat([be(body.length, 4), body]);

/** a short string of at most 255 UTF-8 octets (keys, names) */
const shortstr = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', '/', 'é', '日', '\0', ' ', '__proto__', 'constructor'), maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);
const isIndexKey = (s: string) => /^(0|[1-9][0-9]*)$/.test(s) && Number(s) < 2 ** 32 - 1;
const keyBytes = shortstr.filter((s) => !isIndexKey(s)).map((s) => Buffer.concat([u8(Buffer.byteLength(s)), Buffer.from(s)]));

/** one field value as RabbitMQ's dialect writes it: tag + data (src/codec/field-table.ts) */
const { value: fieldValueBytes, table: fieldTableBytes } = fc.letrec<{ value: Buffer; table: Buffer; array: Buffer }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(0, 1).map((v) => Buffer.from([0x74, v])),
    fc.integer({ min: -128, max: 127 }).map((v) => { const b = Buffer.alloc(2); b[0] = 0x62; b.writeInt8(v, 1); return b; }),
    fc.integer({ min: 0, max: 255 }).map((v) => Buffer.from([0x42, v])),
    fc.integer({ min: -32768, max: 32767 }).map((v) => { const b = Buffer.alloc(3); b[0] = 0x73; b.writeInt16BE(v, 1); return b; }),
    fc.integer({ min: 0, max: 65535 }).map((v) => Buffer.concat([u8(0x75), be(v, 2)])),
    fc.integer().map((v) => { const b = Buffer.alloc(5); b[0] = 0x49; b.writeInt32BE(v, 1); return b; }),
    fc.nat({ max: 0xffffffff }).map((v) => Buffer.concat([u8(0x69), be(v, 4)])),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => { const b = Buffer.alloc(9); b[0] = 0x6c; b.writeBigInt64BE(v, 1); return b; }),
    fc.float({ noNaN: true }).map((v) => { const b = Buffer.alloc(5); b[0] = 0x66; b.writeFloatBE(v, 1); return b; }),
    fc.double({ noNaN: true }).map((v) => { const b = Buffer.alloc(9); b[0] = 0x64; b.writeDoubleBE(v, 1); return b; }),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.nat({ max: 0xffffffff })).map(([p, d]) => Buffer.concat([u8(0x44), u8(p), be(d, 4)])),
    fc.uint8Array({ maxLength: 24 }).map((v) => Buffer.concat([u8(0x53), withLen32(Buffer.from(v))])),
    fc.string({ maxLength: 24 }).map((v) => Buffer.concat([u8(0x53), withLen32(Buffer.from(v))])),
    fc.uint8Array({ maxLength: 24 }).map((v) => Buffer.concat([u8(0x78), withLen32(Buffer.from(v))])),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => { const b = Buffer.alloc(9); b[0] = 0x54; b.writeBigUInt64BE(v, 1); return b; }),
    fc.constant(Buffer.from([0x56])),
    tie('array').map((a) => Buffer.concat([u8(0x41), a])),
    tie('table').map((t) => Buffer.concat([u8(0x46), t])),
  ),
  array: fc.array(tie('value'), { maxLength: 4, depthIdentifier: 'nest' }).map((vs) => withLen32(Buffer.concat(vs))),
  // Tables with distinct keys (a repeated key cannot re-encode to the same bytes) that are
  // not array indices: a JS object lists integer-like keys ("0", "17") first, so a table with
  // one after another key comes back reordered (same pairs, different bytes; see the
  // 'integer-like keys' property below).
  table: fc.uniqueArray(fc.tuple(keyBytes, tie('value')), { maxLength: 5, selector: ([k]) => k.toString('hex'), depthIdentifier: 'nest' }).map((pairs) => withLen32(Buffer.concat(pairs.flat()))),
}));

/** A value of one method field type, as the method objects carry it. */
function fieldValue(type: MethodSpec['fields'][number]['type']): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bit': return fc.boolean();
    case 'octet': return fc.integer({ min: 0, max: 255 });
    case 'short': return fc.integer({ min: 0, max: 0xffff });
    case 'long': return fc.nat({ max: 0xffffffff });
    case 'longlong': return fc.maxSafeNat();
    case 'shortstr': return shortstr;
    case 'longstr': return fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
    case 'table': return fieldTableBytes.map((b) => decodeFieldTable(b, 4, b.length));
  }
}

const methodArb: fc.Arbitrary<AmqpMethod> = fc.constantFrom(...METHOD_SPECS.values()).chain((spec) =>
  fc.record(Object.fromEntries(spec.fields.map((f) => [f.name, fieldValue(f.type)]))).map((fields) => ({ id: spec.id, ...fields }) as unknown as AmqpMethod),
);

const propertiesArb: fc.Arbitrary<MessageProperties> = fc.record(
  {
    contentType: shortstr,
    contentEncoding: shortstr,
    headers: fieldTableBytes.map((b) => decodeFieldTable(b, 4, b.length)),
    deliveryMode: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: shortstr,
    replyTo: shortstr,
    expiration: shortstr,
    messageId: shortstr,
    timestamp: fc.maxSafeNat(),
    type: shortstr,
    userId: shortstr,
    appId: shortstr,
    clusterId: shortstr,
  },
  { requiredKeys: [] },
);

// ---- the frame-level harness ---------------------------------------------------------------

/** A content header frame (class 60) for `props` with a body size, as a whole frame. */
function headerFrame(channel: number, bodySize: number, props: MessageProperties): Buffer {
  const p = encodeProperties(props);
  const payload = Buffer.alloc(12 + p.length);
  payload.writeUInt16BE(60, 0);
  payload.writeUInt32BE(Math.floor(bodySize / 0x1_0000_0000), 4);
  payload.writeUInt32BE(bodySize >>> 0, 8);
  p.copy(payload, 12);
  return frame(2, channel, payload);
}

function frame(type: number, channel: number, payload: Buffer): Buffer {
  return Buffer.concat([u8(type), be(channel, 2), be(payload.length, 4), payload, u8(0xce)]);
}

const frameStream = fc
  .array(
    fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 3 }), methodArb).map(([ch, m]) => encodeMethodFrame(ch, m)),
      fc.tuple(fc.integer({ min: 1, max: 3 }), fc.nat({ max: 1 << 20 }), propertiesArb).map(([ch, n, p]) => headerFrame(ch, n, p)),
      fc.tuple(fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 100 })).map(([ch, b]) => frame(3, ch, Buffer.from(b))),
      fc.constant(frame(8, 0, Buffer.alloc(0))),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((frames) => Buffer.concat(frames));

/** Offsets of the length fields a frame stream carries: each frame's size, and the first method's table/longstr lengths are hit by splices. */
function frameLengthFields(buf: Buffer): { at: number; width: 1 | 2 | 4 }[] {
  const out: { at: number; width: 1 | 2 | 4 }[] = [];
  for (let pos = 0; pos + 7 <= buf.length; ) {
    out.push({ at: pos + 3, width: 4 });
    const size = buf.readUInt32BE(pos + 3);
    // inside a method payload, the octet after the ids is often a shortstr length
    if (buf[pos] === 1 && size > 4) out.push({ at: pos + 11, width: 1 });
    if (buf[pos] === 2 && size >= 14) out.push({ at: pos + 11, width: 4 }, { at: pos + 15, width: 4 });
    pos += 8 + size;
  }
  return out;
}

const FRAME_MAX = 4096;

/** Push chunks through a FrameReader whose sink decodes as the connection does; records the largest allocation. */
function runReader(chunks: Buffer[]): 'ok' | 'refused' {
  const sink: FrameSink = {
    onMethodFrame: (_ch, p) => void decodeMethod(p),
    onHeaderFrame: (_ch, p) => {
      checkContentHeader(p);
      decodeProperties(propertiesView(p));
    },
    onBodyFrame: () => {},
    onHeartbeatFrame: () => {},
  };
  const reader = new FrameReader(sink, FRAME_MAX);
  const realAlloc = Buffer.allocUnsafe;
  let largest = 0;
  Buffer.allocUnsafe = (n: number) => {
    largest = Math.max(largest, n);
    return realAlloc(n);
  };
  try {
    for (const c of chunks) reader.push(c);
    return 'ok';
  } catch (e) {
    if (e instanceof BrokerError) return 'refused';
    throw e;
  } finally {
    Buffer.allocUnsafe = realAlloc;
    // a declared size beyond frame-max is refused from the header, before any buffer is made for it
    expect(largest).toBeLessThanOrEqual(FRAME_MAX);
  }
}

function refusedOrValue(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BrokerError)) throw e;
  }
}

// ---- properties ----------------------------------------------------------------------------

describe('AMQP codec (property-based)', () => {
  it('a wire-valid field table decodes and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fieldTableBytes, (bytes) => {
        const table = decodeFieldTable(bytes, 4, bytes.length);
        expect(encodeFieldTable(table).equals(bytes)).toBe(true);
      }),
      params('amqp field table round trip'),
    );
  });

  it('integer-like keys: a decoded table re-encodes to the same pairs (their order aside)', () => {
    const indexKey = fc.nat({ max: 99 }).map((n) => String(n));
    const pairs = fc.uniqueArray(fc.tuple(fc.oneof(indexKey, shortstr), fc.integer()), { maxLength: 6, selector: ([k]) => k });
    fc.assert(
      fc.property(pairs, (kv) => {
        const bytes = withLen32(Buffer.concat(kv.map(([k, v]) => { const b = Buffer.alloc(5); b[0] = 0x49; b.writeInt32BE(v, 1); return Buffer.concat([u8(Buffer.byteLength(k)), Buffer.from(k), b]); })));
        const table = decodeFieldTable(bytes, 4, bytes.length);
        const again = encodeFieldTable(table);
        expect(again.length).toBe(bytes.length);
        expect(decodeFieldTable(again, 4, again.length)).toEqual(Object.fromEntries(kv));
      }),
      params('amqp field table index keys'),
    );
  });

  it('every method: encode → decode → encode is the identity, primitive fields kept', () => {
    fc.assert(
      fc.property(methodArb, (m) => {
        const bytes = encodeMethodPayload(m);
        const back = decodeMethod(bytes);
        expect(encodeMethodPayload(back).equals(bytes)).toBe(true);
        for (const [k, v] of Object.entries(m)) {
          if (typeof v !== 'object') expect((back as unknown as Record<string, unknown>)[k]).toEqual(v);
          else if (Buffer.isBuffer(v)) expect(Buffer.compare((back as unknown as Record<string, Buffer>)[k], v)).toBe(0);
        }
      }),
      params('amqp method round trip'),
    );
  });

  it('basic properties: encode → decode → encode is the identity', () => {
    fc.assert(
      fc.property(propertiesArb, (p) => {
        const bytes = encodeProperties(p);
        const back = decodeProperties(bytes);
        expect(encodeProperties(back).equals(bytes)).toBe(true);
        expect(Object.keys(back).sort()).toEqual(Object.keys(p).sort());
      }),
      params('amqp properties round trip'),
    );
  });

  it('mutated field tables, methods and properties: a value or BrokerError', () => {
    const table = mutated(fieldTableBytes, (b) => [{ at: 0, width: 4 }, ...(b.length > 5 ? [{ at: 4, width: 1 as const }] : [])]);
    const method = mutated(methodArb.map((m) => encodeMethodPayload(m)), (b) => (b.length > 5 ? [{ at: 4, width: 1 }, { at: 4, width: 4 }] : []));
    const props = mutated(propertiesArb.map((p) => encodeProperties(p)), () => [{ at: 0, width: 2 }, { at: 2, width: 1 }]);
    fc.assert(
      fc.property(table, method, props, (t, m, p) => {
        refusedOrValue(() => decodeFieldTable(t, 0, t.length));
        refusedOrValue(() => decodeMethod(m));
        refusedOrValue(() => decodeProperties(p));
      }),
      params('amqp mutated decoders'),
    );
  });

  it('valid frame streams in arbitrary chunks decode without error', () => {
    fc.assert(
      fc.property(frameStream.filter((b) => b.length < FRAME_MAX), fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        // every frame fits frame-max here (small tables, ≤100-octet bodies)
        expect(runReader(chunked(stream, cuts))).toBe('ok');
      }),
      params('amqp valid frame stream'),
    );
  });

  it('mutated frame streams in arbitrary chunks: frames or BrokerError, no allocation past frame-max', () => {
    fc.assert(
      fc.property(mutated(frameStream, frameLengthFields), fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        runReader(chunked(stream, cuts));
      }),
      params('amqp mutated frame stream', 2),
    );
  });

  it('regression (found by fuzzing): a timestamp above 2^53 seconds re-encodes exactly', () => {
    const bytes = Buffer.from([0, 0, 0, 10, 0, 84, 0, 42, 200, 246, 38, 75, 99, 25]);
    expect(encodeFieldTable(decodeFieldTable(bytes, 4, bytes.length)).equals(bytes)).toBe(true);
  });

  it('regression: a declared 4 GiB frame is refused from its header alone', () => {
    const head = Buffer.from([1, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    expect(() => runReader([head])).not.toThrow();
    expect(runReader([head, Buffer.alloc(16)])).toBe('refused');
  });
});
