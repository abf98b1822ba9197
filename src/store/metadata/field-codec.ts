/**
 * Field tables (queue, exchange and binding arguments) as JSON text, losslessly: values JSON
 * cannot hold — Buffer, bigint, Date, TypedValue, non-finite numbers, -0 — become one-key
 * tagged objects, and nested tables are wrapped too, so a user key can never be mistaken
 * for a tag. Decoding gives values equal to the ones encoded, with the same JS types.
 *
 *   "text" | true | 1.5 | null | [ … ]             as themselves
 *   {"$table": { key: value, … }}                   a nested table (or any plain object)
 *   {"$bytes": "<base64>"}  {"$bigint": "-12"}  {"$date": 1700000000000}
 *   {"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}
 *   {"$typed": "<tag>", "value": <value>}           TypedValue (AMQP type tag kept)
 */
import { TypedValue, type FieldTable, type FieldValue } from '../../codec/types.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Encode a table; `canonical` sorts keys (identity of binding arguments, as core/binding.ts tableKey). */
export function encodeFieldTable(table: FieldTable | undefined, canonical = false): string {
  return JSON.stringify(table ? encodeTableBody(table, canonical) : {});
}

export function decodeFieldTable(text: string): FieldTable {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an encoded field table');
  return decodeTableBody(parsed as Record<string, Json>);
}

function encodeTableBody(table: Record<string, unknown>, canonical: boolean): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  const keys = Object.keys(table);
  if (canonical) keys.sort();
  for (const k of keys) out[k] = encodeValue(table[k], canonical);
  return out;
}

function encodeValue(v: unknown, canonical: boolean): Json {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isNaN(v)) return { $number: 'NaN' };
      if (v === Infinity) return { $number: 'Infinity' };
      if (v === -Infinity) return { $number: '-Infinity' };
      if (Object.is(v, -0)) return { $number: '-0' };
      return v;
    case 'bigint':
      return { $bigint: v.toString() };
  }
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('base64') };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof TypedValue) return { $typed: v.type, value: encodeValue(v.value, canonical) };
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, canonical));
  if (typeof v === 'object') return { $table: encodeTableBody(v as Record<string, unknown>, canonical) };
  throw new TypeError(`cannot store a ${typeof v} in a field table`);
}

function decodeTableBody(o: Record<string, Json>): FieldTable {
  const out: FieldTable = {};
  for (const k of Object.keys(o)) out[k] = decodeValue(o[k]);
  return out;
}

function decodeValue(v: Json): FieldValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decodeValue);
  const keys = Object.keys(v);
  const tag = keys[0];
  if ('$typed' in v && keys.length === 2) return new TypedValue(String(v.$typed), decodeValue(v.value));
  if (keys.length !== 1) throw new TypeError(`malformed field value ${JSON.stringify(v)}`);
  const x = v[tag];
  switch (tag) {
    case '$table':
      return decodeTableBody(x as Record<string, Json>);
    case '$bytes':
      return Buffer.from(String(x), 'base64');
    case '$bigint':
      return BigInt(String(x));
    case '$date':
      return new Date(Number(x));
    case '$number':
      return x === '-0' ? -0 : Number(x);
  }
  throw new TypeError(`unknown field value tag ${tag}`);
}
