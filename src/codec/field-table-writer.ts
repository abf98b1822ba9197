/**
 * Encoding of AMQP 0-9-1 field tables and the wire primitives the method and content codecs
 * write, in the type tags that `field-table.ts` describes and decodes. Two passes: size first
 * (one allocation of the exact size), then write.
 */
import { TypedValue, type Decimal, type FieldTable, type FieldValue } from './types.js';

export const TWO_32 = 0x1_0000_0000;

/** The tag a plain JS number is encoded with (codec/types.ts): I, then l, else d. */
export function numberTag(v: number): 'I' | 'l' | 'd' {
  if (!Number.isInteger(v) || Object.is(v, -0)) return 'd';
  if (v >= -0x8000_0000 && v <= 0x7fff_ffff) return 'I';
  return v >= -(2 ** 63) && v < 2 ** 63 ? 'l' : 'd';
}


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
