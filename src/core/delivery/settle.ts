import type { Queue } from '../queues/queue.js';
import type { QueueEntry } from '../queues/queue-entry.js';

/** Give entries back to their queues, highest position first so each lands at the front in O(1). */
export function requeueEntries(entries: QueueEntry[], explicit = false): void {
  if (entries.length > 1) entries.sort((a, b) => b.seq - a.seq);
  for (let i = 0; i < entries.length; i++) entries[i].queue.requeue(entries[i], explicit);
}

/** Settled deliveries free credit: let each queue involved dispatch again (once). */
export function dispatchQueuesOf(entries: QueueEntry[]): void {
  if (entries.length === 1) {
    entries[0].queue.dispatch();
  } else if (entries.length > 1) {
    const seen = new Set<Queue>();
    for (let i = 0; i < entries.length; i++) seen.add(entries[i].queue);
    for (const q of seen) q.dispatch();
  }
}

/** Settle taken deliveries: an ack (`requeue` null), a nack/reject with or without requeue. */
export function settleEntries(entries: QueueEntry[], requeue: boolean | null): void {
  if (requeue === null) {
    for (let i = 0; i < entries.length; i++) entries[i].queue.settle(entries[i]);
  } else if (requeue) {
    requeueEntries(entries, true);
  } else {
    for (let i = 0; i < entries.length; i++) entries[i].queue.reject(entries[i]);
  }
}
