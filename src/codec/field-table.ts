/**
 * AMQP 0-9-1 wire primitives and field tables, in RabbitMQ's dialect of the type tags
 * (the one amqplib, pika and the Java client speak; it differs from the 0-9-1 spec's table,
 * see https://www.rabbitmq.com/amqp-0-9-1-errata.html "Field types"):
 *
 *   t bool (1 octet)      b int8     B uint8    s int16    u uint16
 *   I int32               i uint32   l int64    f float32  d float64
 *   D decimal (scale octet + uint32)   S long string (uint32 length + bytes)
 *   x byte array (uint32 length + bytes)   A array (uint32 byte length + values)
 *   T timestamp (uint64 seconds)      F nested table      V void
 *
 * Decoding maps each tag to the plain JS value of `codec/types.ts` when encoding that value
 * again would choose the same tag, and to a `TypedValue` otherwise, so that decode → encode
 * gives back the received bytes (amqplib writes small integers as 'b' or 's', for example).
 *
 * Every read is bounds-checked: malformed input raises `BrokerError` FRAME_ERROR, never a
 * RangeError (RabbitMQ answers undecodable methods with 501 "cannot decode").
 */
import { isUtf8 } from 'node:buffer';
import { BrokerError } from '../core/errors.js';
import { TypedValue, type Decimal, type FieldTable, type FieldValue } from './types.js';

/** Nested tables and arrays deeper than this are refused rather than risking the stack. */
const MAX_NESTING = 64;
const TWO_32 = 0x1_0000_0000;
/** Date can hold ±8.64e15 ms; timestamps beyond that stay numbers in a TypedValue. */
const MAX_DATE_SECONDS = 8_640_000_000_000;

export function frameError(what: string): BrokerError {
  return new BrokerError('FRAME_ERROR', `FRAME_ERROR - cannot decode ${what}`);
}

/**
 * A bounds-checked cursor over `buf[pos, end)`. One is made per decoded method or header;
 * the methods are small enough for V8 to inline.
 */
export class WireReader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw frameError(`${n} more octet(s) at offset ${this.pos}: input truncated`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** uint64 as a number (exact below 2^53, which delivery tags and sizes stay under) */
  u64(): number {
    this.need(8);
    const v = this.buf.readUInt32BE(this.pos) * TWO_32 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  shortstr(): string {
    const len = this.u8();
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** a long string's bytes, copied so that they do not pin the socket chunk */
  longstr(): Buffer {
    const len = this.u32();
    this.need(len);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }

  table(): FieldTable {
    const len = this.u32();
    this.need(len);
    const t = decodeFieldTable(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return t;
  }
}

/** Decode the key/value pairs in `buf[start, end)` (a table's content, after its length). */
export function decodeFieldTable(buf: Buffer, start: number, end: number): FieldTable {
  return readPairs(new WireReader(buf, start, end), 0);
}

function readPairs(r: WireReader, depth: number): FieldTable {
  if (depth > MAX_NESTING) throw frameError('field table: nested too deeply');
  const table: FieldTable = {};
  while (r.pos < r.end) {
    const key = r.shortstr();
    const value = readValue(r, depth);
    // a key named __proto__ must become an own property, not replace the prototype
    if (key === '__proto__') Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
    else table[key] = value;
  }
  return table;
}

function readNested(r: WireReader, depth: number, array: boolean): FieldValue {
  const len = r.u32();
  r.need(len);
  const inner = new WireReader(r.buf, r.pos, r.pos + len);
  r.pos += len;
  if (!array) return readPairs(inner, depth + 1);
  if (depth + 1 > MAX_NESTING) throw frameError('field array: nested too deeply');
  const values: FieldValue[] = [];
  while (inner.pos < inner.end) values.push(readValue(inner, depth + 1));
  return values;
}

function readValue(r: WireReader, depth: number): FieldValue {
  const tag = r.u8();
  const b = r.buf;
  switch (tag) {
    case 0x74 /* t */: {
      const v = r.u8();
      return v <= 1 ? v === 1 : new TypedValue('t', v);
    }
    case 0x62 /* b */:
      r.need(1);
      return new TypedValue('b', b.readInt8(r.pos++));
    case 0x42 /* B */:
      return new TypedValue('B', r.u8());
    case 0x73 /* s */: {
      r.need(2);
      const v = b.readInt16BE(r.pos);
      r.pos += 2;
      return new TypedValue('s', v);
    }
    case 0x75 /* u */:
      return new TypedValue('u', r.u16());
    case 0x49 /* I */: {
      r.need(4);
      const v = b.readInt32BE(r.pos);
      r.pos += 4;
      return v;
    }
    case 0x69 /* i */:
      return new TypedValue('i', r.u32());
    case 0x6c /* l */: {
      r.need(8);
      const big = b.readBigInt64BE(r.pos);
      r.pos += 8;
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return big;
      return keepTag('l', Number(big));
    }
    case 0x66 /* f */: {
      r.need(4);
      const v = b.readFloatBE(r.pos);
      r.pos += 4;
      return new TypedValue('f', v);
    }
    case 0x64 /* d */: {
      r.need(8);
      const v = b.readDoubleBE(r.pos);
      r.pos += 8;
      return keepTag('d', v);
    }
    case 0x44 /* D */: {
      const places = r.u8();
      const digits = r.u32();
      return new TypedValue('D', { places, digits } satisfies Decimal);
    }
    case 0x53 /* S */: {
      const len = r.u32();
      r.need(len);
      const bytes = b.subarray(r.pos, r.pos + len);
      r.pos += len;
      // a long string is bytes on the wire: only valid UTF-8 re-encodes to the same bytes
      return isUtf8(bytes) ? bytes.toString('utf8') : new TypedValue('S', Buffer.from(bytes));
    }
    case 0x78 /* x */:
      return r.longstr();
    case 0x41 /* A */:
      return readNested(r, depth, true);
    case 0x54 /* T */: {
      const seconds = r.u64();
      // beyond 2^53 a number has lost the low bits: re-read the exact value (found by test/fuzz);
      // only then, so that an ordinary timestamp costs no BigInt
      if (seconds > Number.MAX_SAFE_INTEGER) return new TypedValue('T', b.readBigUInt64BE(r.pos - 8));
      return seconds <= MAX_DATE_SECONDS ? new Date(seconds * 1000) : new TypedValue('T', seconds);
    }
    case 0x46 /* F */:
      return readNested(r, depth, false);
    case 0x56 /* V */:
      return null;
    default:
      throw frameError(`field table: unknown field type 0x${tag.toString(16).padStart(2, '0')} at offset ${r.pos - 1}`);
  }
}

/** A number stays plain when re-encoding would pick the same tag, else it keeps its tag. */
function keepTag(tag: 'l' | 'd', v: number): FieldValue {
  return numberTag(v) === tag ? v : new TypedValue(tag, v);
}

/** The tag a plain JS number is encoded with (codec/types.ts): I, then l, else d. */
function numberTag(v: number): 'I' | 'l' | 'd' {
  if (!Number.isInteger(v) || Object.is(v, -0)) return 'd';
  if (v >= -0x8000_0000 && v <= 0x7fff_ffff) return 'I';
  return v >= -(2 ** 63) && v < 2 ** 63 ? 'l' : 'd';
}

// ---- encoding ------------------------------------------------------------------------------
// Two passes: size first (one allocation of the exact size), then write.

/** Encoded size of a table including its 4-octet length prefix. */
export function fieldTableSize(table: FieldTable): number {
  let size = 4;
  for (const key of Object.keys(table)) {
    const v = table[key];
    if (v === undefined) continue; // as amqplib: an undefined entry is not sent
    size += 1 + shortstrLength(key) + fieldValueSize(v);
  }
  return size;
}

/** Write a table with its length prefix at `offset`; returns the offset after it. */
export function writeFieldTable(buf: Buffer, offset: number, table: FieldTable): number {
  const start = offset;
  offset += 4;
  for (const key of Object.keys(table)) {
    const v = table[key];
    if (v === undefined) continue;
    offset = writeShortstr(buf, offset, key);
    offset = writeFieldValue(buf, offset, v);
  }
  buf.writeUInt32BE(offset - start - 4, start);
  return offset;
}

/** A table encoded on its own (length prefix included). */
export function encodeFieldTable(table: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(fieldTableSize(table));
  writeFieldTable(buf, 0, table);
  return buf;
}

/** The byte length of a short string, checked against its 255-octet limit. */
export function shortstrLength(s: string): number {
  const len = Buffer.byteLength(s);
  if (len > 255) throw new TypeError(`short string longer than 255 octets: ${s.slice(0, 40)}…`);
  return len;
}

export function writeShortstr(buf: Buffer, offset: number, s: string): number {
  const len = s.length === 0 ? 0 : buf.write(s, offset + 1, 'utf8');
  if (len > 255) throw new TypeError(`short string longer than 255 octets: ${s.slice(0, 40)}…`);
  buf[offset] = len;
  return offset + 1 + len;
}

export function writeLongstr(buf: Buffer, offset: number, v: Buffer | string): number {
  const len = typeof v === 'string' ? buf.write(v, offset + 4, 'utf8') : v.copy(buf, offset + 4);
  buf.writeUInt32BE(len, offset);
  return offset + 4 + len;
}

/** uint64 from a number (exact below 2^53) */
export function writeU64(buf: Buffer, offset: number, v: number): number {
  buf.writeUInt32BE(Math.floor(v / TWO_32) >>> 0, offset);
  buf.writeUInt32BE(v >>> 0, offset + 4);
  return offset + 8;
}

function isPlainTable(v: object): v is FieldTable {
  return !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date) && !(v instanceof TypedValue);
}

function fieldValueSize(v: FieldValue): number {
  switch (typeof v) {
    case 'string':
      return 5 + Buffer.byteLength(v);
    case 'number':
      return numberTag(v) === 'I' ? 5 : 9;
    case 'bigint':
      return 9;
    case 'boolean':
      return 2;
    case 'object':
      if (v === null) return 1;
      if (Buffer.isBuffer(v)) return 5 + v.length;
      if (v instanceof Date) return 9;
      if (Array.isArray(v)) {
        let size = 5;
        for (let i = 0; i < v.length; i++) size += fieldValueSize(v[i]);
        return size;
      }
      if (v instanceof TypedValue) return typedValueSize(v);
      return 1 + fieldTableSize(v);
    default:
      // undefined inside an array is written as void, as a JS array hole would be
      if (v === undefined) return 1;
      throw new TypeError(`cannot encode a ${typeof v} in a field table`);
  }
}

function typedValueSize(t: TypedValue): number {
  switch (t.type) {
    case 't': case 'b': case 'B': return 2;
    case 's': case 'u': return 3;
    case 'I': case 'i': case 'f': return 5;
    case 'l': case 'd': case 'T': return 9;
    case 'D': return 6;
    case 'V': return 1;
    case 'S': case 'x':
      return 5 + (typeof t.value === 'string' ? Buffer.byteLength(t.value) : (t.value as Buffer).length);
    case 'A': case 'F': return fieldValueSize(t.value as FieldValue);
    default: throw new TypeError(`unknown field type tag '${t.type}'`);
  }
}

function writeFieldValue(buf: Buffer, o: number, v: FieldValue): number {
  switch (typeof v) {
    case 'string':
      buf[o] = 0x53; // S
      return writeLongstr(buf, o + 1, v);
    case 'number':
      return writeTyped(buf, o, numberTag(v), v);
    case 'bigint':
      buf[o] = 0x6c; // l
      buf.writeBigInt64BE(v, o + 1);
      return o + 9;
    case 'boolean':
      buf[o] = 0x74; // t
      buf[o + 1] = v ? 1 : 0;
      return o + 2;
    case 'object':
      if (v === null) {
        buf[o] = 0x56; // V
        return o + 1;
      }
      if (Buffer.isBuffer(v)) {
        buf[o] = 0x78; // x
        return writeLongstr(buf, o + 1, v);
      }
      if (v instanceof Date) return writeTyped(buf, o, 'T', v);
      if (Array.isArray(v)) {
        buf[o] = 0x41; // A
        const start = o + 1;
        o = start + 4;
        for (let i = 0; i < v.length; i++) o = writeFieldValue(buf, o, v[i]);
        buf.writeUInt32BE(o - start - 4, start);
        return o;
      }
      if (v instanceof TypedValue) return writeTyped(buf, o, v.type, v.value);
      buf[o] = 0x46; // F
      return writeFieldTable(buf, o + 1, v);
    default:
      buf[o] = 0x56; // undefined in an array: void
      return o + 1;
  }
}

/** Write `value` with an explicit tag (from a TypedValue, or chosen for a plain value). */
function writeTyped(buf: Buffer, o: number, tag: string, value: unknown): number {
  buf[o] = tag.charCodeAt(0);
  o++;
  switch (tag) {
    case 't': buf[o] = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value); return o + 1;
    case 'b': buf.writeInt8(Number(value), o); return o + 1;
    case 'B': buf.writeUInt8(Number(value), o); return o + 1;
    case 's': buf.writeInt16BE(Number(value), o); return o + 2;
    case 'u': buf.writeUInt16BE(Number(value), o); return o + 2;
    case 'I': buf.writeInt32BE(Number(value), o); return o + 4;
    case 'i': buf.writeUInt32BE(Number(value), o); return o + 4;
    case 'l': buf.writeBigInt64BE(BigInt(value as number | bigint), o); return o + 8;
    case 'f': buf.writeFloatBE(Number(value), o); return o + 4;
    case 'd': buf.writeDoubleBE(Number(value), o); return o + 8;
    case 'D': {
      const d = value as Decimal;
      buf.writeUInt8(d.places, o);
      buf.writeUInt32BE(d.digits, o + 1);
      return o + 5;
    }
    case 'T': {
      if (typeof value === 'bigint') {
        if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new TypeError(`invalid timestamp ${value}`);
        buf.writeBigUInt64BE(value, o);
        return o + 8;
      }
      const seconds = value instanceof Date ? Math.floor(value.getTime() / 1000) : Number(value);
      if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError(`invalid timestamp ${String(value)}`);
      return writeU64(buf, o, seconds);
    }
    case 'S': case 'x': return writeLongstr(buf, o, value as Buffer | string);
    case 'V': return o;
    case 'A': case 'F': {
      // a TypedValue('A'|'F') wraps the plain array/table: write its content after this tag
      const inner = value as FieldValue;
      const end = writeFieldValue(buf, o - 1, inner);
      buf[o - 1] = tag.charCodeAt(0);
      return end;
    }
    default:
      throw new TypeError(`unknown field type tag '${tag}'`);
  }
}
