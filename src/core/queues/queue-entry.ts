import type { Message } from '../message.js';
import type { Consumer } from '../delivery/consumer.js';
import type { Queue } from './queue.js';

/**
 * A message's place in one queue. One entry per (message, queue): the message itself is
 * shared. While delivered and unacked, the entry is out of the queue's buffer and held by
 * the session under its delivery tag (the fields below say where it came from), so tracking
 * an unacked delivery allocates nothing more.
 */
export class QueueEntry {
  /** replaced by a copy when the queue rewrites headers on redelivery (x-delivery-count) */
  message: Message;
  /** position in the queue, increasing; a requeued entry goes back to its place by it */
  readonly seq: number;
  readonly queue: Queue;
  /** effective priority in this queue (clamped to the queue's maximum) */
  readonly priority: number;
  redelivered = false;
  /** delivered at least once (to a consumer or basic.get) */
  delivered = false;
  /** ms since the epoch when the message expires in this queue, 0 = never */
  expiresAt = 0;
  /** the message store holds it under (queue.storeId, seq): leaving the queue must be recorded */
  stored = false;
  /** how many times it was delivered and given back */
  deliveryCount = 0;
  /** set while delivered and unacked */
  deliveryTag = 0;
  consumer: Consumer | null = null;

  constructor(message: Message, seq: number, queue: Queue, priority: number) {
    this.message = message;
    this.seq = seq;
    this.queue = queue;
    this.priority = priority;
  }
}
