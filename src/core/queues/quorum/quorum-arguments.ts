/**
 * Arguments of quorum queues (`x-queue-type: quorum`), checked and worded as RabbitMQ's
 * rabbit_quorum_queue does (rabbitmq.com/docs/quorum-queues "Feature Matrix"; texts and
 * edge cases compared with RabbitMQ 3.10.8): durable only, never exclusive or auto-delete,
 * never server-named; the arguments a quorum queue does not know are refused with
 * "invalid arg … of queue type rabbit_quorum_queue"; replication settings that mean
 * nothing on one node (`x-quorum-initial-group-size`, `x-queue-leader-locator`,
 * `x-max-in-memory-*`) are checked and then ignored.
 */
import { numericValue, type FieldTable, type FieldValue } from '../../../codec/types.js';
import { preconditionFailed } from '../../errors.js';
import { settingsFrom, unwrap, type QueueSettings } from '../queue-arguments.js';

export const QUORUM_TYPE = 'quorum';

/** RabbitMQ 4.x quorum queues poison-message limit when none is set (rabbit_quorum_queue DEFAULT_DELIVERY_LIMIT). */
export const DEFAULT_DELIVERY_LIMIT = 20;

/** Arguments other queue types understand that a quorum queue refuses. */
const REFUSED = [
  'x-max-priority',
  'x-queue-mode',
  'x-queue-master-locator',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
  'x-initial-cluster-size',
  'x-stream-compaction',
  'x-stream-compaction-key-header',
  'x-stream-tombstone-retention',
];

/** Quorum-only arguments compared on redeclaration, besides the shared ones (queue-arguments.ts). */
export const QUORUM_ARGUMENT_KEYS = ['x-dead-letter-strategy', 'x-quorum-initial-group-size', 'x-queue-leader-locator'];

export function isQuorumArguments(args: FieldTable): boolean {
  return unwrap(args['x-queue-type']) === QUORUM_TYPE;
}

export type DeadLetterStrategy = 'at-most-once' | 'at-least-once';

export interface QuorumFlags {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  /** the client asked for a server-generated name */
  serverNamed: boolean;
}

/** queue.declare of a new quorum queue (406 otherwise, RabbitMQ's texts, RabbitMQ's order). */
export function validateQuorumDeclare(queue: string, vhost: string, flags: QuorumFlags, args: FieldTable): void {
  if (flags.serverNamed) throw preconditionFailed('Cannot declare a server-named queue for type rabbit_quorum_queue');
  const where = `for queue '${queue}' in vhost '${vhost}'`;
  // rabbit_queue_type_util: check_auto_delete, check_exclusive, check_non_durable
  if (flags.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' ${where}`);
  if (flags.exclusive) throw preconditionFailed(`invalid property 'exclusive-owner' ${where}`);
  if (!flags.durable) throw preconditionFailed(`invalid property 'non-durable' ${where}`);
  for (const key of REFUSED) {
    if (key in args) throw preconditionFailed(`invalid arg '${key}' ${where} of queue type rabbit_quorum_queue`);
  }
  const bad = (key: string, why: string) => preconditionFailed(`invalid arg '${key}' ${where}: ${why}`);
  const integer = (key: string, min: number) => {
    if (!(key in args)) return;
    const v = unwrap(args[key]);
    const n = numericValue(args[key]);
    if (n === undefined || !Number.isInteger(n)) throw bad(key, `"expected integer, got ${typeName(v)}"`);
    if (n < min) throw bad(key, `"value must be greater than or equal to ${min}"`);
  };
  integer('x-quorum-initial-group-size', 1);
  integer('x-max-in-memory-length', 0);
  integer('x-max-in-memory-bytes', 0);
  // 4.x: a negative delivery limit turns poison-message handling off
  integer('x-delivery-limit', -1);
  const strategy = unwrap(args['x-dead-letter-strategy']);
  if (strategy !== undefined && strategy !== 'at-most-once' && strategy !== 'at-least-once') throw bad('x-dead-letter-strategy', 'invalid_dlx_strategy');
  const locator = unwrap(args['x-queue-leader-locator']);
  // random and least-leaders are 3.x names that 4.x reads as balanced
  if (locator !== undefined && !['client-local', 'balanced', 'random', 'least-leaders'].includes(locator as string)) {
    throw bad('x-queue-leader-locator', 'invalid_queue_locator_arg');
  }
}

/** A quorum queue's behaviour as its effective arguments set it. */
export interface QuorumSettings extends QueueSettings {
  /** at-least-once needs reject-publish and a dead-letter exchange; otherwise at-most-once */
  deadLetterStrategy: DeadLetterStrategy;
}

export function quorumSettingsFrom(args: FieldTable): QuorumSettings {
  const s = settingsFrom(args);
  // reject-publish-dlx is accepted with a warning and means the default (rabbit_quorum_queue:overflow/3)
  if (s.overflow === 'reject-publish-dlx') s.overflow = 'drop-head';
  if (!('x-delivery-limit' in args)) s.deliveryLimit = DEFAULT_DELIVERY_LIMIT;
  const asked = unwrap(args['x-dead-letter-strategy']) === 'at-least-once';
  const atLeastOnce = asked && s.overflow === 'reject-publish' && s.deadLetterExchange !== null;
  return { ...s, deadLetterStrategy: atLeastOnce ? 'at-least-once' : 'at-most-once' };
}

function typeName(v: FieldValue | undefined): string {
  if (typeof v === 'string') return 'longstr';
  if (typeof v === 'boolean') return 'bool';
  if (Buffer.isBuffer(v)) return 'binary';
  if (v === null) return 'void';
  return typeof v === 'number' ? 'double' : 'table';
}
