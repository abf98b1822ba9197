import type { Scheduler, ScheduledTask } from '../delivery/scheduler.js';
import type { DeadLetterReason, QueueStats } from './queue.js';
import type { QueueSettings } from './queue-arguments.js';
import type { Message } from '../message.js';
import type { QueueEntry } from './queue-entry.js';

/** The longest single wait setTimeout accepts (2^31 - 1 ms); longer values fire at once. */
export const MAX_TIMER_MS = 0x7fffffff;

/** The lower of the queue's and the message's TTL wins (RabbitMQ); -1 when neither is set. */
export function effectiveTtl(queueTtl: number, messageTtl: number): number {
  if (queueTtl < 0) return messageTtl;
  if (messageTtl < 0) return queueTtl;
  return Math.min(queueTtl, messageTtl);
}

/** Redeliveries from a queue with x-delivery-limit carry the x-delivery-count header (as quorum queues do). */
export function withDeliveryCount(message: Message, count: number): Message {
  const headers = { ...(message.properties.headers ?? {}), 'x-delivery-count': count };
  return message.withProperties({ ...message.properties, headers });
}

/** The queue side a redelivery needs (classic-queue.ts imports this file, not the other way). */
export interface Redeliverable {
  readonly settings: QueueSettings;
  readonly stats: QueueStats;
  /** whether redeliveries carry `x-delivery-count` (with a delivery limit; always for quorum queues) */
  readonly countsDeliveries: boolean;
  deadLetterEntry(entry: QueueEntry, reason: DeadLetterReason): void;
  restore(entry: QueueEntry): void;
  dispatch(): void;
}

/**
 * A delivery given back to `q` (released from its consumer): it returns to its place, flagged
 * redelivered — unless it has now been delivered more than x-delivery-limit times (then it is
 * dead-lettered, reason delivery_limit). An explicit nack/reject with requeue on a queue with
 * x-redelivery-backoff returns only after the next back-off delay, on the vhost's scheduler.
 */
export function redeliver(q: Redeliverable, entry: QueueEntry, explicit: boolean, scheduler: Scheduler): void {
  entry.redelivered = true;
  entry.deliveryCount++;
  const limit = q.settings.deliveryLimit;
  if (limit >= 0 && entry.deliveryCount > limit) {
    q.deadLetterEntry(entry, 'delivery_limit');
    return;
  }
  if (q.countsDeliveries) entry.message = withDeliveryCount(entry.message, entry.deliveryCount);
  q.stats.redelivered++;
  const backoff = q.settings.redeliveryBackoff;
  if (explicit && backoff.length > 0) {
    const delay = backoff[Math.min(entry.deliveryCount, backoff.length) - 1];
    scheduler.schedule(Date.now() + delay, new BackoffReturn(q, entry));
    return;
  }
  q.restore(entry);
}

/** A requeued message waiting out its back-off delay (x-redelivery-backoff). */
export class BackoffReturn implements ScheduledTask {
  constructor(
    readonly queue: Redeliverable,
    readonly entry: QueueEntry,
  ) {}

  run(): void {
    this.queue.restore(this.entry);
    this.queue.dispatch();
  }
}
