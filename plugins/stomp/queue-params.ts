/**
 * Queue properties and arguments from STOMP headers (rabbitmq.com/docs/stomp "Controlling
 * RabbitMQ Queue Parameters with STOMP"): `durable` (alias `persistent`), `auto-delete`,
 * `exclusive`, and `x-` headers as queue arguments with the same meaning as in AMQP 0-9-1.
 */
import type { FieldTable, FieldValue } from '../../src/codec/index.js';
import type { ConsumeOptions, QueueDeclareOptions } from '../../src/core/index.js';
import { invalidHeader } from './errors.js';

/** x- headers that are not queue arguments */
const NOT_QUEUE_ARGUMENTS = new Set(['x-queue-name', 'x-priority', 'x-stream-offset', 'x-stream-consumer-name']);

const INTEGER_ARGUMENTS = new Set([
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-message-ttl',
  'x-delivery-limit',
  'x-stream-max-segment-size-bytes',
  'x-stream-filter-size-bytes',
]);
const BOOLEAN_ARGUMENTS = new Set(['x-single-active-consumer', 'x-reply-on-failure']);

/** A header's boolean: RabbitMQ accepts `true`/`True`/`false`/`False`; anything else means "not given". */
export function booleanHeader(value: string | undefined): boolean | undefined {
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return undefined;
}

/**
 * What a destination kind implies when the frame does not say (RabbitMQ's `default_params`);
 * anything left out follows from durability: a durable queue is neither exclusive nor
 * auto-delete, a transient one is both (RabbitMQ's `queue_declare_method`).
 */
export interface QueueDefaults {
  durable?: boolean;
  autoDelete?: boolean;
  exclusive?: boolean;
}

/** /queue/: a shared durable queue. */
export const QUEUE_DESTINATION_DEFAULTS: QueueDefaults = { durable: true };
/** /exchange/ subscriptions: a private queue that goes with the subscription. */
export const EXCHANGE_SUBSCRIPTION_DEFAULTS: QueueDefaults = { exclusive: true, autoDelete: true };
/**
 * /topic/ subscriptions. RabbitMQ leaves a transient one non-exclusive; Warren makes it
 * exclusive (so that it also goes with the connection if it never got its consumer). A
 * durable one (`durable:true` + `id`) is shared and survives the connection.
 */
export const TOPIC_SUBSCRIPTION_DEFAULTS: QueueDefaults = { exclusive: true, autoDelete: true };
export const DURABLE_SUBSCRIPTION_DEFAULTS: QueueDefaults = { exclusive: false, autoDelete: true };

export function isDurableSubscription(headers: Record<string, string>): boolean {
  return booleanHeader(headers['durable']) === true || booleanHeader(headers['persistent']) === true;
}

export function queueDeclareOptions(headers: Record<string, string>, defaults: QueueDefaults): QueueDeclareOptions {
  const durable = booleanHeader(headers['durable']) ?? booleanHeader(headers['persistent']) ?? defaults.durable ?? false;
  return {
    durable,
    autoDelete: booleanHeader(headers['auto-delete']) ?? defaults.autoDelete ?? !durable,
    exclusive: booleanHeader(headers['exclusive']) ?? defaults.exclusive ?? !durable,
    arguments: queueArguments(headers),
  };
}

export function queueArguments(headers: Record<string, string>): FieldTable {
  const args: FieldTable = {};
  for (const name in headers) {
    if (!name.startsWith('x-') || NOT_QUEUE_ARGUMENTS.has(name)) continue;
    args[name] = argumentValue(name, headers[name]!);
  }
  return args;
}

function argumentValue(name: string, raw: string): FieldValue {
  const value = raw.trim();
  if (INTEGER_ARGUMENTS.has(name)) {
    if (!/^-?\d+$/.test(value)) throw invalidHeader(name, raw, 'is not an integer');
    return Number(value);
  }
  if (BOOLEAN_ARGUMENTS.has(name)) {
    const b = booleanHeader(value);
    if (b === undefined) throw invalidHeader(name, raw, 'is not true or false');
    return b;
  }
  return value;
}

/**
 * Consumer arguments: `x-priority` (consumer priority), `x-stream-offset`, and the stream
 * consumer name whose offset the broker stores (docs/streams.md): `x-stream-consumer-name`,
 * or for a durable subscription (`durable:true` + `id`) its id, so it resumes where it left.
 */
export function consumeArguments(headers: Record<string, string>): ConsumeOptions['arguments'] {
  const priority = headers['x-priority'];
  const offset = headers['x-stream-offset'];
  const name = headers['x-stream-consumer-name'] ?? (isDurableSubscription(headers) ? headers['id'] : undefined);
  if (priority === undefined && offset === undefined && name === undefined) return undefined;
  const args: FieldTable = {};
  if (priority !== undefined) {
    if (!/^-?\d+$/.test(priority.trim())) throw invalidHeader('x-priority', priority, 'is not an integer');
    args['x-priority'] = Number(priority.trim());
  }
  if (offset !== undefined) args['x-stream-offset'] = /^\d+$/.test(offset) ? Number(offset) : offset;
  if (name !== undefined && name !== '') args['x-stream-consumer-name'] = name;
  return args;
}
