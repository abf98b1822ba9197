import { encodeProperties } from '../../../codec/basic-properties.js';
import { MSG_FLAG_TRANSIENT } from '../../../store/format.js';
import type { MessageStore } from '../../../store/message-store.js';
import type { Message } from '../../message.js';

/**
 * A durable classic queue's records in the vhost's journal (docs/store.md "Leaving a
 * queue"): a delivery marks its record delivered, every way out of the queue acks it, a purge
 * drops the ready ones — keeping the seqs of stored entries delivered and not yet settled,
 * which are still the queue's to finish (AMQP queue.purge).
 */
export class StoredEntries {
  /** seqs of stored entries delivered and not yet settled; made on the first delivery (an idle queue has none) */
  #unacked: Set<number> | null = null;

  constructor(
    readonly store: MessageStore,
    readonly storeId: number,
  ) {}

  /** delivered to a consumer that acks: kept through a purge until settled */
  delivered(seq: number): void {
    (this.#unacked ??= new Set()).add(seq);
    this.store.markDelivered(this.storeId, seq);
  }

  /** taken by basic.get (`trackUnacked` follows with manual ack) */
  taken(seq: number): void {
    this.store.markDelivered(this.storeId, seq);
  }

  /** keep (or stop keeping) a settled entry's record through a purge */
  keep(seq: number, keep: boolean): void {
    if (keep) (this.#unacked ??= new Set()).add(seq);
    else this.#unacked?.delete(seq);
  }

  /** the entry left the queue for good: an ACK record (`consumed`: acknowledged by a consumer) */
  ack(seq: number, consumed = false): void {
    this.store.ack(this.storeId, seq, consumed);
  }

  /** A transient message that must be paged out goes to the journal flagged not to be recovered. */
  storeTransient(message: Message, seq: number, expiresAt: number): void {
    const props = message.encodedProperties ?? encodeProperties(message.properties);
    message.journalLsn = this.store.appendMessage(message, props, expiresAt, [this.storeId], [seq], 1, MSG_FLAG_TRANSIENT);
  }

  /** Drop every ready record up to `lastSeq`, the delivered-unacked ones kept. */
  purge(lastSeq: number): void {
    this.store.purge(this.storeId, lastSeq, this.#unacked ?? undefined);
  }
}
