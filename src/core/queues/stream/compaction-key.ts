import { FLAG_KEY_IS_ROUTING_KEY, FLAG_TOMBSTONE, MAX_FIELD_LENGTH } from '../../../store/stream/stream-format.js';
import type { Message } from '../../message.js';
import type { StreamSettings } from './stream-arguments.js';

/**
 * A compacted stream's key of a message (docs/streams.md "Compaction"): the header named by
 * `x-stream-compaction-key-header`, or else the routing key (flagged, not stored twice).
 */

/** A key the record format cannot hold (u16 length) is refused like a full queue (a nack), not stored cut. */
export function keyTooLong(s: StreamSettings, message: Message): boolean {
  if (s.config.compaction === null || s.keyHeader === null) return false;
  const key = keyValue(message.properties.headers?.[s.keyHeader]);
  if (key === null) return false;
  return (typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.length) > MAX_FIELD_LENGTH;
}

/** The key stored with the record: null without compaction, with the routing key as key, or without the header. */
export function compactionKeyOf(s: StreamSettings, message: Message): Buffer | null {
  if (s.config.compaction === null || s.keyHeader === null) return null;
  // a message without the key header has no key: compaction keeps it
  return keyBytes(message.properties.headers?.[s.keyHeader]);
}

/** Record flags: an empty body is a tombstone, and the routing key may be the key. */
export function compactionFlagsOf(s: StreamSettings, message: Message): number {
  if (s.config.compaction === null) return 0;
  const tombstone = message.body.length === 0 ? FLAG_TOMBSTONE : 0;
  return s.keyHeader === null ? tombstone | FLAG_KEY_IS_ROUTING_KEY : tombstone;
}

/** A compaction key from a header value (strings as UTF-8, numbers in decimal, bytes as they are). */
function keyBytes(v: unknown): Buffer | null {
  const key = keyValue(v);
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** The key a header value stands for, before encoding: null when there is none (absent or empty). */
function keyValue(v: unknown): Buffer | string | null {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v.length > 0 ? v : null;
  const s = typeof v === 'object' && 'value' in (v as object) ? String((v as { value: unknown }).value) : String(v);
  return s === '' ? null : s;
}
