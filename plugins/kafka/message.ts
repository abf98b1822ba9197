/**
 * Kafka records ↔ core messages (README "Kafka clients", mapping table):
 *
 * | Kafka record | stream message (AMQP view) |
 * |---|---|
 * | value | body (a null value is an empty body: a tombstone on a compacted stream; an empty body is served as a null value) |
 * | key | header `x-kafka-key` (byte array); served back from it, else from the routing key of a message published through an exchange |
 * | timestamp (ms) | property `timestamp` (seconds) and header `timestamp_in_ms` |
 * | headers | headers of the same names, values as byte arrays (null stays void) |
 * | offset | the stream offset (header `x-stream-offset`) |
 */
import type { FieldTable, FieldValue, MessageProperties } from '../../src/codec/index.js';
import { Message } from '../../src/core/index.js';
import type { KafkaRecord, RecordHeader } from './codec/records.js';

export const KEY_HEADER = 'x-kafka-key';
export const TIMESTAMP_HEADER = 'timestamp_in_ms';
/** on the first record of an idempotent batch: `<producer id>.<epoch>.<base sequence>.<count>` (producer-recovery.ts) */
export const PRODUCER_HEADER = 'x-kafka-producer';
const OFFSET_HEADER = 'x-stream-offset';
const EMPTY = Buffer.alloc(0);

/**
 * A produced record as a persistent message to the stream queue `queue` (default exchange).
 * Key, value and header values are kept as they are (views into the batch the produce
 * handler copied out of the request once), not copied per record.
 */
export function messageOfRecord(queue: string, rec: KafkaRecord, producer: string | null = null): Message {
  const headers: FieldTable = {};
  for (const h of rec.headers) headers[h.key] = h.value;
  if (rec.key !== null) headers[KEY_HEADER] = rec.key;
  const ts = rec.timestamp >= 0 ? rec.timestamp : Date.now();
  headers[TIMESTAMP_HEADER] = ts;
  if (producer !== null) headers[PRODUCER_HEADER] = producer;
  const properties: MessageProperties = { deliveryMode: 2, timestamp: Math.floor(ts / 1000), headers };
  return new Message('', queue, properties, rec.value === null ? EMPTY : rec.value);
}

/** A stream message (from any protocol) as a record for a fetch response. */
export function recordOfMessage(m: Message): KafkaRecord {
  const h = m.properties.headers ?? {};
  const offset = Number(numeric(h[OFFSET_HEADER]) ?? -1);
  const tsHeader = numeric(h[TIMESTAMP_HEADER]);
  const timestamp = tsHeader ?? (m.properties.timestamp !== undefined ? m.properties.timestamp * 1000 : m.publishedAt);
  let key: Buffer | null = bytesOf(h[KEY_HEADER]);
  if (key === null && m.exchange !== '' && m.routingKey !== '') key = Buffer.from(m.routingKey, 'utf8');
  const headers: RecordHeader[] = [];
  for (const name in h) {
    if (name === OFFSET_HEADER || name === KEY_HEADER || name === TIMESTAMP_HEADER || name === PRODUCER_HEADER) continue;
    const v = h[name];
    headers.push({ key: name, value: v === null || v === undefined ? null : bytesOf(v) });
  }
  return { offset, timestamp, key, value: m.body.length === 0 ? null : m.body, headers };
}

function numeric(v: FieldValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value !== 'object') {
    const n = Number((v as { value: unknown }).value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Header value → bytes: byte arrays as they are, strings as UTF-8, other values as text. */
function bytesOf(v: FieldValue | undefined): Buffer | null {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Date) return Buffer.from(v.toISOString(), 'utf8');
  if (typeof v === 'object' && 'value' in v && !Array.isArray(v)) return bytesOf((v as { value: FieldValue }).value);
  return Buffer.from(typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) : String(v), 'utf8');
}
