import { preconditionFailed } from '../errors.js';
import type { DeliveryPosition } from '../api.js';
import type { QueueEntry } from '../queues/queue-entry.js';

/**
 * A session's delivered-but-unsettled entries by delivery tag. Tags increase, and a Map
 * iterates in insertion order, so `multiple` settles walk from the oldest up to the tag.
 */
/** what an Unacked with nothing delivered yet reads from (never written: `add` makes its own) */
const NONE: ReadonlyMap<number, QueueEntry> = new Map();

export class Unacked {
  // made on first delivery: an idle consumer (an MQTT device) should not pay for an empty Map
  #byTag: Map<number, QueueEntry> | null = null;
  #lastTag = 0;
  /** entries delivered to consumers (not basic.get), for the session-wide prefetch */
  #consumerCount = 0;
  /** returned by take(): valid until the next call (no array per ack); made by the first settle */
  #scratchList: QueueEntry[] | null = null;

  get size(): number {
    return this.#byTag === null ? 0 : this.#byTag.size;
  }

  get consumerCount(): number {
    return this.#consumerCount;
  }

  /** AMQP delivery tags start at 1 per channel and increase (AMQP 0-9-1 §1.8.3.13). */
  nextTag(): number {
    return ++this.#lastTag;
  }

  /** Session.deliveryPosition */
  position(tag: number): DeliveryPosition | null {
    const entry = this.#byTag?.get(tag);
    return entry === undefined ? null : { queue: entry.queue.name, seq: entry.seq };
  }

  add(entry: QueueEntry): void {
    (this.#byTag ??= new Map()).set(entry.deliveryTag, entry);
    if (entry.consumer) this.#consumerCount++;
  }

  /**
   * Remove and return the entries an ack/nack/reject names: tag alone, or with `multiple`
   * every entry up to and including it (tag 0 with multiple: all). An unknown tag is a
   * channel error 406, and then nothing is taken (RabbitMQ's collect_acks).
   */
  take(tag: number, multiple: boolean): QueueEntry[] {
    const out = (this.#scratchList ??= []);
    out.length = 0;
    if (multiple && tag === 0) return this.#takeAllInto(out);
    const entry = this.#byTag?.get(tag);
    if (!entry) throw preconditionFailed(`unknown delivery tag ${tag}`);
    if (!multiple) {
      this.#remove(tag, entry);
      out.push(entry);
      return out;
    }
    for (const [t, e] of this.#byTag!) {
      if (t > tag) break;
      this.#remove(t, e);
      out.push(e);
    }
    return out;
  }

  /** Put taken entries back (a rolled-back transaction's acks), keeping tag order. */
  restore(entries: QueueEntry[]): void {
    if (entries.length === 0) return;
    const all = [...(this.#byTag ?? NONE).values(), ...entries].sort((a, b) => a.deliveryTag - b.deliveryTag);
    this.#byTag?.clear();
    this.#consumerCount = 0;
    for (const e of all) this.add(e);
  }

  takeAll(): QueueEntry[] {
    const out = (this.#scratchList ??= []);
    out.length = 0;
    return this.#takeAllInto(out);
  }

  #takeAllInto(out: QueueEntry[]): QueueEntry[] {
    if (this.#byTag === null) return out;
    for (const e of this.#byTag.values()) out.push(e);
    this.#byTag.clear();
    this.#consumerCount = 0;
    return out;
  }

  #remove(tag: number, entry: QueueEntry): void {
    this.#byTag!.delete(tag);
    if (entry.consumer) this.#consumerCount--;
  }
}
