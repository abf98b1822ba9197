/**
 * MQTT subscriptions that replay a stream queue (beyond RabbitMQ, LavinMQ, Aedes and NATS):
 *
 *   $stream/<stream>/<topic filter>            offset from the MQTT 5 SUBSCRIBE user property
 *                                              `x-stream-offset` (default: next)
 *   $stream@<offset>/<stream>/<topic filter>   the offset in the filter itself, for MQTT 3.1.1
 *                                              clients (no properties there); MQTT 5 may use it too
 *
 * <offset> is what AMQP's `x-stream-offset` takes in text: `first`, `last`, `next`, a numeric
 * offset, or an interval back from now (`30m`, `12h`, `7D`). The subscription consumes the
 * stream queue directly (no binding, nothing declared) and receives the stream's messages whose
 * routing keys match the topic filter, from that offset on, with their original topics; MQTT 5
 * deliveries carry their offset as the user property `x-stream-offset`. A persistent session's
 * stream subscription is a named stream consumer (`mqtt/<client id>/<filter>`), so the broker
 * stores its offset and a resumed session — or the same client subscribing again — continues
 * after the last message it acknowledged (QoS 0 deliveries count once written).
 */
import type { FieldTable } from '../../src/codec/index.js';
import { topicFilterProblem } from './topics.js';

/** The stream part of a subscription. */
export interface StreamSubscription {
  stream: string;
  /** `x-stream-offset` as the core takes it */
  offset: string | number;
  /** per-consumer prefetch (a stream consumer needs one: rabbitmq.com/docs/streams) */
  prefetch: number;
}

export interface ParsedStreamFilter {
  stream: string;
  topicFilter: string;
  offset: string | number;
}

const OFFSET = /^(first|last|next|\d+|\d+[YMDhms])$/;

/**
 * @returns null when `filter` is not a stream filter, the parts when it is a valid one, or
 * why it is not valid
 */
export function parseStreamFilter(filter: string, userProperties: Record<string, string | string[]> | undefined): ParsedStreamFilter | string | null {
  let rest: string;
  let offset: string | undefined;
  if (filter.startsWith('$stream/')) {
    rest = filter.slice(8);
    const p = userProperties?.['x-stream-offset'];
    offset = Array.isArray(p) ? p[p.length - 1] : p;
  } else if (filter.startsWith('$stream@')) {
    const slash = filter.indexOf('/');
    if (slash < 0) return 'stream subscription without a stream';
    offset = filter.slice(8, slash);
    rest = filter.slice(slash + 1);
  } else return null;
  if (offset !== undefined && !OFFSET.test(offset)) return `invalid stream offset '${offset}'`;
  const slash = rest.indexOf('/');
  if (slash <= 0) return 'stream subscription without a stream or a topic filter';
  const stream = rest.slice(0, slash);
  if (stream.includes('+') || stream.includes('#')) return 'wildcard in a stream name';
  const topicFilter = rest.slice(slash + 1);
  const problem = topicFilterProblem(topicFilter);
  if (problem) return problem;
  return { stream, topicFilter, offset: offset === undefined ? 'next' : /^\d+$/.test(offset) ? Number(offset) : offset };
}

/** The consumer tag of a stream subscription: one consumer per subscription, each at its own offset. */
export const streamConsumerTag = (filter: string): string => `mqtt-stream:${filter}`;

/** basic.consume arguments of a stream subscription; `consumerName` only for a persistent session. */
export function streamConsumeArguments(sub: StreamSubscription, consumerName: string | null): FieldTable {
  const args: FieldTable = { 'x-stream-offset': sub.offset };
  if (consumerName !== null) args['x-stream-consumer-name'] = consumerName;
  return args;
}
