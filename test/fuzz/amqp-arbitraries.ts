/**
 * fast-check generators of valid AMQP 0-9-1 wire structures (field tables as bytes, method
 * objects, basic properties, frame streams), shared by the codec and live-broker fuzz suites.
 */
import fc from 'fast-check';
import { encodeProperties } from '../../src/codec/basic-properties.js';
import { decodeFieldTable } from '../../src/codec/field-table.js';
import type { MessageProperties } from '../../src/codec/types.js';
import { encodeMethodFrame, type AmqpMethod } from '../../plugins/amqp/codec/methods.js';
import { METHOD_SPECS, type MethodSpec } from '../../plugins/amqp/codec/method-table.js';

// ---- generators of wire-valid bytes --------------------------------------------------------

export const u8 = (n: number) => Buffer.from([n]);
export const be = (n: number, width: 1 | 2 | 4) => {
  const b = Buffer.alloc(width);
  b.writeUIntBE(n, 0, width);
  return b;
};
export const withLen32 = (body: Buffer) => Buffer.concat([be(body.length, 4), body]);

/** a short string of at most 255 UTF-8 octets (keys, names) */
export const shortstr = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', '/', 'é', '日', '\0', ' ', '__proto__', 'constructor'), maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);
const isIndexKey = (s: string) => /^(0|[1-9][0-9]*)$/.test(s) && Number(s) < 2 ** 32 - 1;
const keyBytes = shortstr.filter((s) => !isIndexKey(s)).map((s) => Buffer.concat([u8(Buffer.byteLength(s)), Buffer.from(s)]));

/** one field value as RabbitMQ's dialect writes it: tag + data (src/codec/field-table.ts) */
export const { value: fieldValueBytes, table: fieldTableBytes } = fc.letrec<{ value: Buffer; table: Buffer; array: Buffer }>((tie) => ({
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

export const methodArb: fc.Arbitrary<AmqpMethod> = fc.constantFrom(...METHOD_SPECS.values()).chain((spec) =>
  fc.record(Object.fromEntries(spec.fields.map((f) => [f.name, fieldValue(f.type)]))).map((fields) => ({ id: spec.id, ...fields }) as unknown as AmqpMethod),
);

export const propertiesArb: fc.Arbitrary<MessageProperties> = fc.record(
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


/** A content header frame (class 60) for `props` with a body size, as a whole frame. */
export function headerFrame(channel: number, bodySize: number, props: MessageProperties): Buffer {
  const p = encodeProperties(props);
  const payload = Buffer.alloc(12 + p.length);
  payload.writeUInt16BE(60, 0);
  payload.writeUInt32BE(Math.floor(bodySize / 0x1_0000_0000), 4);
  payload.writeUInt32BE(bodySize >>> 0, 8);
  p.copy(payload, 12);
  return frame(2, channel, payload);
}

export function frame(type: number, channel: number, payload: Buffer): Buffer {
  return Buffer.concat([u8(type), be(channel, 2), be(payload.length, 4), payload, u8(0xce)]);
}

export const frameStream = fc
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
export function frameLengthFields(buf: Buffer): { at: number; width: 1 | 2 | 4 }[] {
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

