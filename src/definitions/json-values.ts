/**
 * AMQP field tables and message properties as JSON, the way RabbitMQ's management API and
 * definitions files show them: arguments, headers and policy definitions as plain objects,
 * properties under their AMQP names (`content_type`, `delivery_mode` …).
 */
import { TypedValue, type Decimal, type FieldTable, type FieldValue, type MessageProperties } from '../codec/types.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function fieldValueToJson(v: FieldValue): Json {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  // AMQP timestamps are seconds since the epoch (§4.2.5.4); RabbitMQ shows the number
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (v instanceof TypedValue) {
    const inner = v.value;
    if (v.type === 'D' && isDecimal(inner)) return inner.digits / 10 ** inner.places;
    return fieldValueToJson(inner as FieldValue);
  }
  if (Array.isArray(v)) return v.map(fieldValueToJson);
  return fieldTableToJson(v);
}

export function fieldTableToJson(t: FieldTable | undefined): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  if (!t) return out;
  for (const k of Object.keys(t)) out[k] = fieldValueToJson(t[k]!);
  return out;
}

/** JSON from a request or a definitions file as a field table (integers stay integers: int32/int64 on the wire). */
export function jsonToFieldValue(v: unknown): FieldValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(jsonToFieldValue);
  if (typeof v === 'object') return jsonToFieldTable(v);
  return String(v);
}

export function jsonToFieldTable(v: unknown): FieldTable {
  const out: FieldTable = {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = jsonToFieldValue(x);
  return out;
}

/** AMQP property names in JSON (snake_case, as RabbitMQ's API) ↔ MessageProperties keys. */
const PROPERTY_NAMES: ReadonlyArray<readonly [string, keyof MessageProperties]> = [
  ['content_type', 'contentType'],
  ['content_encoding', 'contentEncoding'],
  ['headers', 'headers'],
  ['delivery_mode', 'deliveryMode'],
  ['priority', 'priority'],
  ['correlation_id', 'correlationId'],
  ['reply_to', 'replyTo'],
  ['expiration', 'expiration'],
  ['message_id', 'messageId'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['user_id', 'userId'],
  ['app_id', 'appId'],
  ['cluster_id', 'clusterId'],
];

export function propertiesToJson(p: MessageProperties): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [json, key] of PROPERTY_NAMES) {
    const v = p[key];
    if (v === undefined) continue;
    out[json] = key === 'headers' ? fieldTableToJson(v as FieldTable) : (v as string | number);
  }
  return out;
}

/**
 * Properties from JSON; @returns an error text for a value of the wrong type (the API
 * answers 400), as RabbitMQ validates them.
 */
export function propertiesFromJson(v: unknown): MessageProperties | string {
  const out: MessageProperties = {};
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) return 'properties must be an object';
  const src = v as Record<string, unknown>;
  for (const [json, key] of PROPERTY_NAMES) {
    const x = src[json];
    if (x === undefined) continue;
    if (key === 'headers') {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'headers must be an object';
      out.headers = jsonToFieldTable(x);
    } else if (key === 'deliveryMode' || key === 'priority' || key === 'timestamp') {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 0) return `${json} must be a non-negative integer`;
      (out as Record<string, unknown>)[key] = n;
    } else {
      if (typeof x !== 'string' && typeof x !== 'number') return `${json} must be a string`;
      (out as Record<string, unknown>)[key] = String(x);
    }
  }
  for (const k of Object.keys(src)) {
    if (!PROPERTY_NAMES.some(([json]) => json === k)) return `unknown property '${k}'`;
  }
  return out;
}

function isDecimal(v: unknown): v is Decimal {
  return typeof v === 'object' && v !== null && 'places' in v && 'digits' in v;
}
