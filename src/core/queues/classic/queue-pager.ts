import { decodeProperties } from '../../../codec/basic-properties.js';
import type { MessageStore, ReadListener, StoredMessage } from '../../../store/message-store.js';
import { DamagedRecordError } from '../../../store/message-reader.js';
import { EMPTY_BODY, Message } from '../../message.js';
import type { Queue } from '../queue.js';
import { QueueEntry } from '../queue-entry.js';

/**
 * Bounded memory for deep durable queues ("lazy" queues in RabbitMQ's terms).
 *
 * A queue keeps at most a window of its backlog as objects in memory; past that, new entries
 * live only in the message store (the queue counts them) and are read back in batches, in
 * seq order, when the window drains below half. Once anything is paged out, everything after
 * it is paged too, so order is kept: the paged region is exactly the seqs above the last one
 * that entered the window.
 *
 * The window is 64 MiB of bodies (or 4,096 messages): a publisher's window of unconfirmed
 * messages (amqplib users and benchmarks commonly keep 32 MiB in flight) must fit, because a
 * paged entry costs its record's write (it cannot be consumed before its round, so the
 * journal never leaves it out: src/store/elision.ts), a read back and a second CRC pass —
 * with 1 MiB bodies and a 16 MiB window that made a consumer that kept up fall behind for
 * good (docs/performance.md, "Large messages"). Memory stays bounded twice: per queue by the
 * window, and for the node by `MemoryPaging`: above half of the memory high watermark
 * (RabbitMQ's vm_memory_high_watermark_paging_ratio, 0.5) every queue pages what arrives.
 */
export const PAGE_WINDOW_COUNT = 4096;
export const PAGE_WINDOW_BYTES = 64 * 1024 * 1024;

/** The node's memory pressure, as the pager reads it (core/alarms.ts). */
export interface MemoryPaging {
  /** the broker's memory is above the paging threshold: queues page everything new */
  readonly memoryPaging: boolean;
}

const NO_PRESSURE: MemoryPaging = { memoryPaging: false };
const READ_BATCH = 1024;

/** What the pager asks of its queue (a FIFO one: priority queues do not page). */
export interface PagedQueue extends Queue {
  /** put an entry read back at the back of the window */
  windowAppend(entry: QueueEntry): void;
}

export class QueuePager implements ReadListener {
  readonly #queue: PagedQueue;
  readonly #store: MessageStore;
  readonly #memory: MemoryPaging;
  /** entries that exist only in the store */
  paged = 0;
  pagedBytes = 0;
  /** the highest seq that entered the window: the paged region starts above it */
  lastWindowSeq = 0;
  #reading = false;
  #generation = 0;

  constructor(queue: PagedQueue, store: MessageStore, memory: MemoryPaging = NO_PRESSURE) {
    this.#queue = queue;
    this.#store = store;
    this.#memory = memory;
  }

  /** Whether an entry arriving now must stay in the store only (keeps seq order). */
  mustPage(): boolean {
    return (
      this.paged > 0 ||
      this.#queue.windowLength >= PAGE_WINDOW_COUNT ||
      this.#queue.windowBytes >= PAGE_WINDOW_BYTES ||
      this.#memory.memoryPaging
    );
  }

  /** After a restart, everything the store holds for the queue is paged out. @returns its bytes */
  adoptBacklog(): number {
    this.paged = this.#store.queueLength(this.#queue.storeId);
    this.pagedBytes = this.#store.queueBytes(this.#queue.storeId);
    return this.pagedBytes;
  }

  pageOut(size: number): void {
    this.paged++;
    this.pagedBytes += size;
  }

  noteWindowed(seq: number): void {
    if (seq > this.lastWindowSeq) this.lastWindowSeq = seq;
  }

  /** Start a read when the window is low and the store holds more. */
  refillIfLow(): void {
    if (this.paged === 0 || this.#reading) return;
    // below half the window by count and by bytes: a read adds at most the other half
    if (this.#queue.windowLength >= PAGE_WINDOW_COUNT / 2 || this.#queue.windowBytes >= PAGE_WINDOW_BYTES / 2) return;
    this.#reading = true;
    this.#store.read(
      { queueId: this.#queue.storeId, afterSeq: this.lastWindowSeq, maxCount: READ_BATCH, maxBytes: PAGE_WINDOW_BYTES / 2 },
      this,
      this.#generation,
    );
  }

  /** Drop everything paged (purge, deletion); a read in flight is ignored when it lands. */
  reset(): void {
    this.paged = 0;
    this.pagedBytes = 0;
    this.#generation++;
    this.#reading = false;
  }

  onMessages(token: number, messages: StoredMessage[], error: Error | null): void {
    if (token !== this.#generation) return;
    this.#reading = false;
    if (error instanceof DamagedRecordError) this.#dropDamaged(error.seqs);
    for (const sm of messages) {
      if (sm.seq <= this.lastWindowSeq) continue;
      const message = new Message(sm.exchange, sm.routingKey, decodeProperties(sm.properties), sm.bodyRef ? EMPTY_BODY : sm.body, sm.properties, sm.publishedAt, sm.bodyRef ?? null);
      this.paged--;
      this.pagedBytes -= message.size;
      this.lastWindowSeq = sm.seq;
      this.#queue.windowAppend(this.#entryOf(message, sm));
    }
    // Nothing came back although entries were counted as paged: they were removed meanwhile
    // (or unreadable). Trust the store rather than loop on reads that return nothing.
    if (messages.length === 0) this.reset();
    if (this.paged < 0) this.reset();
    this.#queue.dispatch();
    this.refillIfLow();
  }

  /** An entry for a message read back: the queue's TTL (a policy's too) counts from publication. */
  #entryOf(message: Message, sm: StoredMessage): QueueEntry {
    const entry = new QueueEntry(message, sm.seq, this.#queue, 0);
    entry.stored = true;
    entry.redelivered = sm.redelivered;
    const ttl = this.#queue.settings.messageTtl;
    let expiresAt = sm.expiresAt;
    if (ttl >= 0 && (expiresAt === 0 || sm.publishedAt + ttl < expiresAt)) expiresAt = sm.publishedAt + ttl;
    entry.expiresAt = expiresAt;
    return entry;
  }

  /**
   * Entries whose records failed their checksum when read back (the store logged them) are
   * lost: take them out of the store too, or they would stay counted and be read, and fail,
   * again after every restart. Their body sizes are unknown here; `reset` settles the bytes
   * once nothing is left to read.
   */
  #dropDamaged(seqs: readonly number[]): void {
    for (const seq of seqs) {
      if (seq <= this.lastWindowSeq) continue;
      this.#store.ack(this.#queue.storeId, seq);
      this.paged--;
    }
  }
}
