import { numericValue, TypedValue, type FieldTable, type FieldValue } from '../../codec/types.js';
import { Message } from '../message.js';
import type { DeadLetterReason, Queue } from '../queues/queue.js';

/**
 * The message a queue dead-letters, with its `x-death` history updated the way RabbitMQ
 * writes it (https://www.rabbitmq.com/docs/dlx "Dead-Lettered Messages"):
 * - `x-death` is an array of tables, most recent first, one per (queue, reason), each with
 *   count, reason, queue, time, exchange, routing-keys and original-expiration when the
 *   message had a per-message TTL; a repeated (queue, reason) increments its count and
 *   moves to the front;
 * - `x-first-death-{reason,queue,exchange}` are set once, `x-last-death-*` every time;
 * - the `expiration` property is removed, so the message does not expire again;
 * - with a dead-letter routing key the message is routed by that key alone (CC dropped).
 */
export function deadLetteredMessage(
  message: Message,
  queue: Queue,
  reason: DeadLetterReason,
  exchange: string,
  routingKey: string | null,
): Message {
  const props = { ...message.properties };
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const history = Array.isArray(headers['x-death']) ? [...(headers['x-death'] as FieldValue[])] : [];
  const i = history.findIndex((d) => isTable(d) && d.queue === queue.name && d.reason === reason);
  if (i >= 0) {
    const previous = history.splice(i, 1)[0] as FieldTable;
    history.unshift({ ...previous, count: deathCount((numericValue(previous.count) ?? 0) + 1) });
  } else {
    const death: FieldTable = {
      count: deathCount(1),
      reason,
      queue: queue.name,
      time: new Date(Math.floor(Date.now() / 1000) * 1000),
      exchange: message.exchange,
      'routing-keys': originalRoutingKeys(message),
    };
    if (props.expiration !== undefined) death['original-expiration'] = props.expiration;
    history.unshift(death);
  }
  headers['x-death'] = history;
  if (headers['x-first-death-reason'] === undefined) {
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue.name;
    headers['x-first-death-exchange'] = message.exchange;
  }
  headers['x-last-death-reason'] = reason;
  headers['x-last-death-queue'] = queue.name;
  headers['x-last-death-exchange'] = message.exchange;
  if (routingKey !== null) delete headers.CC;
  delete props.expiration;
  props.headers = headers;
  return message.withProperties(props, exchange, routingKey ?? message.routingKey);
}

/** RabbitMQ writes x-death counts as longs ('l'); Java and .NET clients cast them to Long. */
const deathCount = (n: number) => new TypedValue('l', n);

/**
 * RabbitMQ drops a dead-lettered message instead of routing it back into a queue it already
 * died in, unless a rejection happened somewhere on the way (a consumer decided, so it is not
 * an endless automatic loop).
 */
export function isDeadLetterCycle(message: Message, target: Queue): boolean {
  const history = message.properties.headers?.['x-death'];
  if (!Array.isArray(history)) return false;
  let seen = false;
  for (const d of history) {
    if (!isTable(d)) continue;
    if (d.reason === 'rejected') return false;
    if (d.queue === target.name) seen = true;
  }
  return seen;
}

/** The routing key plus CC keys the message was published with (BCC is never recorded). */
function originalRoutingKeys(message: Message): string[] {
  const cc = message.properties.headers?.CC;
  const keys = [message.routingKey];
  if (Array.isArray(cc)) for (const k of cc) if (typeof k === 'string') keys.push(k);
  return keys;
}

function isTable(v: FieldValue): v is FieldTable {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date) && !(v instanceof TypedValue)
  );
}
