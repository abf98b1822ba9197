import { numericValue, type FieldTable } from '../../codec/types.js';
import { accessRefused, notImplemented } from '../errors.js';
import type { Queue } from '../queues/queue.js';
import type { QueueEntry } from '../queues/queue-entry.js';

/** What a consumer needs from its session: whether it may deliver now, and how. */
export interface ConsumerSession {
  /** open, flow on, socket writable, and under the session-wide prefetch */
  canDeliver(): boolean;
  deliver(consumer: Consumer, entry: QueueEntry): void;
  /** the queue went away: forget the consumer and tell the client (AMQP basic.cancel from the server) */
  cancelledByServer(consumer: Consumer): void;
}

/**
 * Body bytes a consumer may hold unacked, whatever its prefetch count: past them it gets one
 * more delivery only once some are settled (a single larger body still goes alone). A prefetch
 * of 1,000 with 1 MiB bodies would otherwise put a GiB in flight to one consumer. AMQP allows
 * a broker to send fewer than prefetch_count messages; RabbitMQ has no byte credit
 * (prefetch_size is not implemented), so this is ours.
 */
export const CONSUMER_UNACKED_BYTES = 16 * 1024 * 1024;

/**
 * One subscription of a session to a queue (AMQP basic.consume, an MQTT subscription queue,
 * a STOMP SUBSCRIBE). Credit: at most `prefetch` unacked deliveries (0 = unlimited), and at
 * most CONSUMER_UNACKED_BYTES of their bodies.
 */
let nextConsumerId = 1;

export class Consumer {
  /** increasing: registration order (single active consumer hands over in this order) */
  readonly id = nextConsumerId++;
  readonly tag: string;
  readonly queue: Queue;
  readonly session: ConsumerSession;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly prefetch: number;
  readonly arguments: FieldTable;
  /** consumer priority (`x-priority` argument, RabbitMQ): higher ones get messages first */
  readonly priority: number;
  /** deliveries not yet acked, rejected or requeued */
  unacked = 0;
  /** their body bytes (classic and quorum queues count them; a stream consumer's credit is by count) */
  unackedBytes = 0;

  constructor(
    tag: string,
    queue: Queue,
    session: ConsumerSession,
    noAck: boolean,
    exclusive: boolean,
    prefetch: number,
    args: FieldTable,
  ) {
    this.tag = tag;
    this.queue = queue;
    this.session = session;
    this.noAck = noAck;
    this.exclusive = exclusive;
    this.prefetch = prefetch;
    this.arguments = args;
    const p = numericValue(args['x-priority']);
    this.priority = p !== undefined && Number.isInteger(p) ? p : 0;
  }

  /** A delivery of `bodyBytes` awaits its ack. */
  took(bodyBytes: number): void {
    this.unacked++;
    this.unackedBytes += bodyBytes;
  }

  /** A delivery of `bodyBytes` was acked, rejected or requeued. */
  settled(bodyBytes: number): void {
    this.unacked--;
    this.unackedBytes -= bodyBytes;
  }

  hasCredit(): boolean {
    return (
      (this.prefetch === 0 || this.unacked < this.prefetch) &&
      (this.unackedBytes < CONSUMER_UNACKED_BYTES || this.unacked === 0) &&
      this.session.canDeliver()
    );
  }
}

/** Whether a new consumer may start on `q` (basic.consume), as RabbitMQ decides; throws its error. */
export function checkConsumable(q: Queue, exclusive: boolean, sessionPrefetch: number): void {
  if (q.hasExclusiveConsumer() || (exclusive && q.consumerCount > 0)) {
    throw accessRefused(`queue '${q.name}' in vhost '${q.vhost}' in exclusive use`);
  }
  // rabbit_quorum_queue:consume: a channel with a global prefetch (basic.qos global=true) cannot consume from a quorum queue
  if (!q.globalQosAllowed && sessionPrefetch > 0) throw notImplemented(`queue '${q.name}' in vhost '${q.vhost}' does not support global qos`);
}
