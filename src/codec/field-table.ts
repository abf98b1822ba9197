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
 * RangeError (RabbitMQ answers undecodable methods with 501 "cannot decode"). *
 * This file reads; `field-table-writer.ts` writes.
 */
import { isUtf8 } from 'node:buffer';
import { BrokerError } from '../core/errors.js';
import { TypedValue, type Decimal, type FieldTable, type FieldValue } from './types.js';
import { numberTag, TWO_32 } from './field-table-writer.js';

/** Nested tables and arrays deeper than this are refused rather than risking the stack. */
const MAX_NESTING = 64;
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
