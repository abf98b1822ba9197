import type { ScheduledTask } from '../delivery/scheduler.js';
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

/** The queue side a back-off return needs (queue.ts imports this file, not the other way). */
interface Restorable {
  restore(entry: QueueEntry): void;
  dispatch(): void;
}

/** A requeued message waiting out its back-off delay (x-redelivery-backoff). */
export class BackoffReturn implements ScheduledTask {
  constructor(
    readonly queue: Restorable,
    readonly entry: QueueEntry,
  ) {}

  run(): void {
    this.queue.restore(this.entry);
    this.queue.dispatch();
  }
}
