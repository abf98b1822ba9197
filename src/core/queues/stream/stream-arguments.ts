/**
 * Arguments of stream queues (`x-queue-type: stream`) and of their consumers, checked and
 * worded as RabbitMQ's rabbit_stream_queue does (rabbitmq.com/docs/streams "Declaring",
 * "Consuming"), plus Warren's own: `x-single-active-consumer`, `x-stream-compaction`,
 * `x-stream-compaction-key-header`, `x-stream-tombstone-retention`, `x-stream-consumer-name`.
 */
import { numericValue, TypedValue, type FieldTable, type FieldValue } from '../../../codec/types.js';
import { preconditionFailed } from '../../errors.js';
import { unwrap } from '../queue-arguments.js';
import { COMPACTION_DEFAULTS } from '../../../store/stream/cleaner.js';
import { STREAM_DEFAULTS, type StreamConfig } from '../../../store/stream/stream-store.js';

export const STREAM_TYPE = 'stream';

/** Classic-queue arguments a stream refuses (RabbitMQ: "invalid arg … of queue type rabbit_stream_queue"). */
const REFUSED = [
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-priority',
  'x-delivery-limit',
  'x-queue-mode',
  'x-redelivery-backoff',
];

/** Stream arguments compared on redeclaration, besides the shared ones (queue-arguments.ts). */
export const STREAM_ARGUMENT_KEYS = [
  'x-max-age',
  'x-stream-max-segment-size-bytes',
  'x-stream-compaction',
  'x-stream-compaction-key-header',
  'x-stream-tombstone-retention',
];

export function isStreamArguments(args: FieldTable): boolean {
  return unwrap(args['x-queue-type']) === STREAM_TYPE;
}

/**
 * queue.declare of a new stream: durable, not exclusive, not auto-delete, and only arguments
 * a stream understands (406 otherwise, with RabbitMQ's texts).
 */
export function validateStreamDeclare(
  queue: string,
  vhost: string,
  flags: { durable: boolean; exclusive: boolean; autoDelete: boolean },
  args: FieldTable,
): void {
  const where = `for queue '${queue}' in vhost '${vhost}'`;
  if (!flags.durable) throw preconditionFailed(`invalid property 'non-durable' ${where}`);
  if (flags.exclusive) throw preconditionFailed(`invalid property 'exclusive-owner' ${where}`);
  if (flags.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' ${where}`);
  for (const key of REFUSED) {
    if (key in args) throw preconditionFailed(`invalid arg '${key}' ${where} of queue type rabbit_stream_queue`);
  }
  const bad = (key: string, why: string) => preconditionFailed(`invalid arg '${key}' ${where}: ${why}`);
  const nonNegative = (key: string) => {
    if (!(key in args)) return;
    const n = numericValue(args[key]);
    if (n === undefined || !Number.isInteger(n) || n < 0) throw bad(key, 'must be a non-negative integer');
  };
  nonNegative('x-max-length-bytes');
  nonNegative('x-stream-max-segment-size-bytes');
  if ('x-max-age' in args && durationMs(unwrap(args['x-max-age'])) === null) throw bad('x-max-age', 'invalid_max_age');
  if ('x-stream-tombstone-retention' in args && durationMs(unwrap(args['x-stream-tombstone-retention'])) === null) {
    throw bad('x-stream-tombstone-retention', "must be a duration such as '24h'");
  }
  const compaction = unwrap(args['x-stream-compaction']);
  if (compaction !== undefined && compaction !== 'key' && compaction !== 'none') throw bad('x-stream-compaction', "must be 'key' or 'none'");
  const keyHeader = unwrap(args['x-stream-compaction-key-header']);
  if (keyHeader !== undefined && (typeof keyHeader !== 'string' || keyHeader === '')) throw bad('x-stream-compaction-key-header', 'must be a header name');
  const sac = unwrap(args['x-single-active-consumer']);
  if (sac !== undefined && typeof sac !== 'boolean') throw bad('x-single-active-consumer', 'must be a boolean');
}

/** What a stream's effective arguments (declared, merged with its policy) ask for. */
export interface StreamSettings {
  config: StreamConfig;
  /** header holding the compaction key; null: the routing key */
  keyHeader: string | null;
  singleActiveConsumer: boolean;
}

export function streamSettingsFrom(args: FieldTable): StreamSettings {
  const maxBytes = numericValue(args['x-max-length-bytes']);
  const segment = numericValue(args['x-stream-max-segment-size-bytes']);
  const maxAge = durationMs(unwrap(args['x-max-age']));
  const compacted = unwrap(args['x-stream-compaction']) === 'key';
  const grace = durationMs(unwrap(args['x-stream-tombstone-retention']));
  const keyHeader = unwrap(args['x-stream-compaction-key-header']);
  return {
    config: {
      maxSegmentSize: segment !== undefined && segment > 0 ? segment : STREAM_DEFAULTS.maxSegmentSize,
      retention: { maxBytes: maxBytes ?? -1, maxAgeMs: maxAge ?? -1 },
      maxSegmentAgeMs: STREAM_DEFAULTS.maxSegmentAgeMs,
      compaction: compacted ? { ...COMPACTION_DEFAULTS, tombstoneRetentionMs: grace ?? COMPACTION_DEFAULTS.tombstoneRetentionMs } : null,
    },
    keyHeader: typeof keyHeader === 'string' ? keyHeader : null,
    singleActiveConsumer: unwrap(args['x-single-active-consumer']) === true,
  };
}

const UNIT_MS: Record<string, number> = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/** RabbitMQ's duration strings (`7D`, `12h`, `30m`, `10s`, `1M`, `1Y`) in ms; null when malformed. */
export function durationMs(v: FieldValue | undefined): number | null {
  if (typeof v !== 'string') return null;
  const parsed = /^(\d+)([YMDhms])$/.exec(v);
  return parsed ? Number(parsed[1]) * UNIT_MS[parsed[2]] : null;
}

/** Where a consumer starts (`x-stream-offset`). */
export type OffsetSpec =
  | { kind: 'first' | 'last' | 'next' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; ms: number };

/**
 * `x-stream-offset`: first, last (the last chunk — here, the last group commit), next, a
 * numeric offset (a negative one means first, as RabbitMQ reads it), an AMQP timestamp
 * (seconds), or an interval string back from now (`30m`). Default next. RabbitMQ fails the
 * connection with 541 on anything else; Warren refuses the consume with 406.
 */
export function parseOffsetSpec(value: FieldValue | undefined, now: number): OffsetSpec {
  if (value === undefined) return { kind: 'next' };
  if (value instanceof Date) return { kind: 'timestamp', ms: value.getTime() };
  if (value instanceof TypedValue && value.type === 'T') return { kind: 'timestamp', ms: Number(value.value) * 1000 };
  const n = numericValue(value);
  if (n !== undefined) {
    if (!Number.isInteger(n)) throw invalidOffset(value);
    return n < 0 ? { kind: 'first' } : { kind: 'offset', offset: n };
  }
  if (value === 'first' || value === 'last' || value === 'next') return { kind: value };
  const interval = durationMs(value);
  if (interval !== null) return { kind: 'timestamp', ms: now - interval };
  throw invalidOffset(value);
}

function invalidOffset(value: FieldValue): Error {
  return preconditionFailed(
    `invalid x-stream-offset '${String(value instanceof TypedValue ? value.value : value)}': expected first, last, next, an offset, a timestamp or an interval such as '30m'`,
  );
}

/** `x-stream-consumer-name`: a name makes the consumer's offset stored (beyond RabbitMQ's AMQP side). */
export function consumerNameOf(args: FieldTable): string | null {
  const v = unwrap(args['x-stream-consumer-name']);
  if (v === undefined) return null;
  if (typeof v !== 'string' || v === '') throw preconditionFailed("invalid x-stream-consumer-name: must be a non-empty string");
  return v;
}
