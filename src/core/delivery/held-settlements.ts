import type { QueueEntry } from '../queues/queue-entry.js';

/** Acks (`requeue` null), nacks and rejects of an open AMQP transaction, in the order they came. */
export interface HeldSettlement {
  entries: QueueEntry[];
  requeue: boolean | null;
}

/**
 * The deliveries a transaction's basic.ack/nack/reject took from the session's unacked ones:
 * taken at once (so an unknown or repeated tag fails at the ack, as RabbitMQ's collect_acks),
 * settled at tx.commit, given back to the unacked ones at tx.rollback, requeued if the session
 * closes first. They still count against the session-wide prefetch until then.
 */
export class HeldSettlements {
  #list: HeldSettlement[] = [];
  /** held deliveries made to consumers (not basic.get), for the session-wide prefetch */
  consumerCount = 0;

  /** `entries` is copied (Unacked.take returns a scratch array). */
  hold(entries: QueueEntry[], requeue: boolean | null): void {
    const copy = entries.slice();
    this.#list.push({ entries: copy, requeue });
    for (const e of copy) if (e.consumer) this.consumerCount++;
  }

  takeAll(): HeldSettlement[] {
    const list = this.#list;
    this.#list = [];
    this.consumerCount = 0;
    return list;
  }

  takeEntries(): QueueEntry[] {
    return this.takeAll().flatMap((h) => h.entries);
  }
}
