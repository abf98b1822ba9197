/**
 * amqplib's own generated codec (RabbitMQ's protocol definition, independent of ours), loaded
 * by path because the package does not export it. Tests use it as a second opinion on bytes.
 */
import { createRequire } from 'node:module';
import { TypedValue } from '../../../src/codec/types.js';

const require = createRequire(import.meta.url);

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(classId: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, payload: Buffer): Record<string, unknown>;
}
interface AmqplibCodec {
  encodeTable(buf: Buffer, table: Record<string, unknown>, offset: number): number;
  decodeFields(buf: Buffer): Record<string, unknown>;
}

export const amqplibDefs = require('../../../node_modules/amqplib/lib/defs.js') as AmqplibDefs;
export const amqplibCodec = require('../../../node_modules/amqplib/lib/codec.js') as AmqplibCodec;

/** A table encoded by amqplib, length prefix included. */
export function amqplibTable(table: Record<string, unknown>): Buffer {
  const buf = Buffer.alloc(64 * 1024);
  const n = amqplibCodec.encodeTable(buf, table, 0);
  return Buffer.from(buf.subarray(0, n));
}

/** Our method object's fields under amqplib's names (it spells no-wait `nowait`). */
export function toAmqplibFields(method: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(method)) if (k !== 'id') out[k === 'noWait' ? 'nowait' : k] = toAmqplibValue(v);
  return out;
}

/** amqplib's names for the tags it cannot infer, used in its `{ '!': type, value }` notation */
const AMQPLIB_TYPES: Record<string, string> = {
  b: 'int8', B: 'uint8', s: 'int16', u: 'uint16', I: 'int32', i: 'uint32', l: 'int64', f: 'float', d: 'double', D: 'decimal', T: 'timestamp',
};

/** Our field value in amqplib's notation (TypedValue → `{ '!': type, value }`), recursively. */
export function toAmqplibValue(v: unknown): unknown {
  if (v instanceof TypedValue) return { '!': AMQPLIB_TYPES[v.type], value: v.value };
  if (Array.isArray(v)) return v.map(toAmqplibValue);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toAmqplibValue(x)]));
  }
  return v;
}
