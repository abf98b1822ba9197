import type { FieldTable, FieldValue } from '../../codec/types.js';
import { TypedValue } from '../../codec/types.js';
import { preconditionFailed } from '../errors.js';
import { tableKey } from '../binding.js';

/** `x-queue-type` of a classic queue, the default when none is given. */
export const CLASSIC_TYPE = 'classic';

/** RabbitMQ's limit on `x-max-priority` (rabbit_amqqueue ?MAX_SUPPORTED_PRIORITY). */
export const MAX_SUPPORTED_PRIORITY = 255;

type Check = (v: FieldValue | undefined) => string | null;

const nonNegInt: Check = (v) => (isInteger(v) && Number(v) >= 0 ? null : 'must be a non-negative integer');
const posInt: Check = (v) => (isInteger(v) && Number(v) > 0 ? null : 'must be a positive integer');
const str: Check = (v) => (typeof v === 'string' ? null : 'must be a string');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be a boolean');
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? null : `must be one of ${allowed.join(', ')}`;

/**
 * Queue arguments the broker understands, with their validation. These are also the ones
 * compared when a queue is redeclared (RabbitMQ ignores unknown `x-` arguments in both).
 */
const KNOWN_ARGUMENTS: Record<string, Check> = {
  'x-max-priority': (v) =>
    isInteger(v) && Number(v) >= 0 && Number(v) <= MAX_SUPPORTED_PRIORITY
      ? null
      : `must be an integer from 0 to ${MAX_SUPPORTED_PRIORITY}`,
  'x-message-ttl': nonNegInt,
  'x-expires': posInt,
  'x-max-length': nonNegInt,
  'x-max-length-bytes': nonNegInt,
  'x-overflow': oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'),
  'x-dead-letter-exchange': str,
  'x-dead-letter-routing-key': str,
  'x-single-active-consumer': bool,
  'x-queue-type': oneOf('classic', 'quorum', 'stream'),
  'x-queue-mode': oneOf('default', 'lazy'),
  'x-delivery-limit': nonNegInt,
  'x-redelivery-backoff': (v) => (typeof v === 'string' && parseBackoff(v) !== null ? null : "must be a list of durations such as '1s,10s,1m'"),
};

/** @param checkedElsewhere arguments a queue kind validates itself */
export function validateQueueArguments(args: FieldTable, queue: string, vhost: string, checkedElsewhere: readonly string[] = []): void {
  for (const [key, check] of Object.entries(KNOWN_ARGUMENTS)) {
    if (!(key in args) || checkedElsewhere.includes(key)) continue;
    const problem = check(unwrap(args[key]));
    if (problem) throw preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${problem}`);
  }
  // RabbitMQ (rabbit_amqqueue check_dlxrk_arg): a dead-letter routing key without a dead-letter exchange is refused
  if ('x-dead-letter-routing-key' in args && !('x-dead-letter-exchange' in args)) {
    throw preconditionFailed(
      `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '${vhost}': routing_key_but_no_dlx_defined`,
    );
  }
}

export function maxPriorityOf(args: FieldTable): number {
  const v = unwrap(args['x-max-priority']);
  return v === undefined || v === null ? 0 : Number(v);
}

/** The queue.declare equivalence check (406 on a mismatch of a known argument). */
export function assertEquivalentArguments(current: FieldTable, received: FieldTable, queue: string, vhost: string, extraKeys: readonly string[] = []): void {
  for (const key of extraKeys.length === 0 ? Object.keys(KNOWN_ARGUMENTS) : [...Object.keys(KNOWN_ARGUMENTS), ...extraKeys]) {
    const a = unwrap(current[key]);
    const b = unwrap(received[key]);
    if (a === undefined && b === undefined) continue;
    if (a !== undefined && b !== undefined && sameArg(a, b)) continue;
    // an explicit classic type is the same as none (RabbitMQ's default queue type)
    if (key === 'x-queue-type' && (a ?? 'classic') === (b ?? 'classic')) continue;
    throw preconditionFailed(
      `inequivalent arg '${key}' for queue '${queue}' in vhost '${vhost}': received ${describe(b)} but current is ${describe(a)}`,
    );
  }
}

/** A typed field value (an explicitly typed AMQP table entry) as its plain value. */
export function unwrap(v: FieldValue | undefined): FieldValue | undefined {
  return v instanceof TypedValue ? (v.value as FieldValue) : v;
}

function isInteger(v: FieldValue | undefined): boolean {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

function sameArg(a: FieldValue, b: FieldValue): boolean {
  if (isInteger(a) && isInteger(b)) return Number(a) === Number(b);
  return a === b;
}

function describe(v: FieldValue | undefined): string {
  return v === undefined ? 'none' : `the value '${String(v)}'`;
}

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** A queue's behaviour as its arguments (and, later, policies) set it; -1 means "none". */
export interface QueueSettings {
  messageTtl: number;
  expires: number;
  maxLength: number;
  maxLengthBytes: number;
  overflow: Overflow;
  deadLetterExchange: string | null;
  deadLetterRoutingKey: string | null;
  deliveryLimit: number;
  singleActiveConsumer: boolean;
  /** Warren's x-redelivery-backoff: delays (ms) before the 1st, 2nd, … explicit requeue returns; the last repeats */
  redeliveryBackoff: number[];
}

const num = (v: FieldValue | undefined) => (v === undefined || v === null ? -1 : Number(unwrap(v)));

/** Read settings from validated arguments. */
export function settingsFrom(args: FieldTable): QueueSettings {
  const dlx = unwrap(args['x-dead-letter-exchange']);
  const dlrk = unwrap(args['x-dead-letter-routing-key']);
  return {
    messageTtl: num(args['x-message-ttl']),
    expires: num(args['x-expires']),
    maxLength: num(args['x-max-length']),
    maxLengthBytes: num(args['x-max-length-bytes']),
    overflow: (unwrap(args['x-overflow']) as Overflow | undefined) ?? 'drop-head',
    deadLetterExchange: typeof dlx === 'string' ? dlx : null,
    deadLetterRoutingKey: typeof dlrk === 'string' ? dlrk : null,
    deliveryLimit: num(args['x-delivery-limit']),
    singleActiveConsumer: unwrap(args['x-single-active-consumer']) === true,
    redeliveryBackoff: parseBackoff(String(unwrap(args['x-redelivery-backoff']) ?? '')) ?? [],
  };
}

/**
 * The settings of queues declared with the same arguments are one frozen object: a fleet of
 * MQTT sessions declares thousands of queues alike (the same x-expires), and a settings object
 * with its backoff list is ~150 bytes a queue. Keyed by the arguments' text form, so queues
 * restored from the store (each its own parsed table) share too; a bounded number of distinct
 * argument sets is kept, the rest get their own object as before.
 */
const sharedSettings = new Map<string, QueueSettings>();
const SHARED_SETTINGS_MAX = 256;

/** `settingsFrom`, shared between queues with equal arguments (read only: frozen). */
export function sharedSettingsFrom(args: FieldTable): QueueSettings {
  const key = tableKey(args);
  let settings = sharedSettings.get(key);
  if (settings !== undefined) return settings;
  settings = Object.freeze(settingsFrom(args));
  if (sharedSettings.size < SHARED_SETTINGS_MAX) sharedSettings.set(key, settings);
  return settings;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1s,10s,1m" → [1000, 10000, 60000]; a bare number is milliseconds; null when malformed. */
export function parseBackoff(text: string): number[] | null {
  if (text.trim() === '') return [];
  const out: number[] = [];
  for (const part of text.split(',')) {
    const parsed = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(part);
    if (!parsed) return null;
    out.push(Math.round(Number(parsed[1]) * UNIT_MS[parsed[2] ?? 'ms']));
  }
  return out;
}
