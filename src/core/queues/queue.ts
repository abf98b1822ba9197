import type { FieldTable } from '../../codec/types.js';
import type { Binding } from '../binding.js';
import type { Consumer } from '../delivery/consumer.js';
import type { Message } from '../message.js';
import { FifoBuffer, type MessageBuffer } from './message-buffer.js';
import { PriorityBuffer } from './priority-buffer.js';
import { QueueEntry } from './queue-entry.js';

export interface QueueFlags {
  durable: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /** 0 for a classic FIFO queue, 1–255 for a priority queue */
  maxPriority: number;
  /** id of the connection that owns an exclusive queue, or 0 */
  ownerId: number;
}

/** Called by a queue when it may have to be deleted (auto-delete after its last consumer). */
export interface QueueLifecycle {
  queueUnused(queue: Queue): void;
}

/**
 * A queue: ready messages in delivery order, its consumers, and the dispatch loop that hands
 * messages to consumers with credit, round-robin (AMQP 0-9-1 §3.1.5).
 *
 * Dispatch is synchronous: an enqueue, an ack freeing credit or a consumer becoming writable
 * delivers right away, with no timer or promise per message.
 */
export class Queue {
  readonly kind = 'queue' as const;
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  readonly maxPriority: number;
  readonly ownerId: number;
  readonly consumers: Consumer[] = [];
  /** bindings that lead here */
  readonly inbound = new Set<Binding>();
  /** routing pass that last reached this queue (see ExchangeRouter.route) */
  routeMark = 0;
  deleted = false;
  /** deliveries made and not yet settled */
  unackedCount = 0;
  /** counters for operators */
  readonly stats = { published: 0, delivered: 0, acked: 0, redelivered: 0 };

  readonly #buffer: MessageBuffer;
  readonly #lifecycle: QueueLifecycle;
  #seq = 0;
  #nextConsumer = 0;
  #dispatching = false;
  #hadConsumers = false;

  constructor(name: string, vhost: string, flags: QueueFlags, lifecycle: QueueLifecycle) {
    this.name = name;
    this.vhost = vhost;
    this.durable = flags.durable;
    this.autoDelete = flags.autoDelete;
    this.arguments = flags.arguments;
    this.maxPriority = flags.maxPriority;
    this.ownerId = flags.ownerId;
    this.#lifecycle = lifecycle;
    this.#buffer = flags.maxPriority > 0 ? new PriorityBuffer(flags.maxPriority) : new FifoBuffer();
  }

  get exclusive(): boolean {
    return this.ownerId !== 0;
  }

  /** ready messages (not counting delivered-unacked ones), as AMQP message-count reports */
  get messageCount(): number {
    return this.#buffer.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.length > 0 && this.consumers[0].exclusive;
  }

  enqueue(message: Message): void {
    const priority = this.maxPriority === 0 ? 0 : Math.min(message.priority, this.maxPriority);
    const entry = new QueueEntry(message, ++this.#seq, this, priority);
    this.stats.published++;
    this.#buffer.push(entry);
    if (this.consumers.length > 0) this.dispatch();
  }

  /** Hand ready messages to consumers with credit until one side runs out. */
  dispatch(): void {
    if (this.#dispatching || this.deleted) return;
    this.#dispatching = true;
    try {
      const buffer = this.#buffer;
      while (buffer.length > 0) {
        const consumer = this.#pickConsumer();
        if (!consumer) break;
        this.#deliver(consumer, buffer.shift() as QueueEntry);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** basic.get: the next ready message, or undefined */
  take(): QueueEntry | undefined {
    const entry = this.#buffer.shift();
    if (entry) this.stats.delivered++;
    return entry;
  }

  /** A delivery was acked (or dropped): it leaves the queue for good. */
  settle(entry: QueueEntry): void {
    if (entry.consumer) entry.consumer.unacked--;
    entry.consumer = null;
    this.unackedCount--;
    this.stats.acked++;
  }

  /** A delivery was given back: it returns to its place, flagged redelivered. Call `dispatch` after. */
  requeue(entry: QueueEntry): void {
    if (entry.consumer) entry.consumer.unacked--;
    entry.consumer = null;
    this.unackedCount--;
    if (this.deleted) return;
    entry.redelivered = true;
    entry.deliveryCount++;
    this.stats.redelivered++;
    this.#buffer.requeue(entry);
  }

  /** A basic.get made with manual ack: the entry is out and unacked. */
  trackUnacked(): void {
    this.unackedCount++;
  }

  purge(): number {
    return this.#buffer.clear();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.#hadConsumers = true;
    this.dispatch();
  }

  /** @param notify whether the queue may auto-delete now (false while a session is tearing down) */
  removeConsumer(consumer: Consumer, notify = true): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.#nextConsumer > i) this.#nextConsumer--;
    if (notify) this.checkUnused();
  }

  /** auto-delete: once it had consumers and the last one is gone (AMQP 0-9-1 queue.declare auto-delete) */
  checkUnused(): void {
    if (this.autoDelete && this.#hadConsumers && this.consumers.length === 0 && !this.deleted) {
      this.#lifecycle.queueUnused(this);
    }
  }

  /** Everything still ready, for deletion and inspection. */
  readyEntries(): IterableIterator<QueueEntry> {
    return this.#buffer[Symbol.iterator]();
  }

  #pickConsumer(): Consumer | null {
    const consumers = this.consumers;
    const n = consumers.length;
    for (let k = 0; k < n; k++) {
      let i = this.#nextConsumer + k;
      if (i >= n) i -= n;
      const c = consumers[i];
      if (c.hasCredit()) {
        this.#nextConsumer = i + 1 >= n ? 0 : i + 1;
        return c;
      }
    }
    return null;
  }

  #deliver(consumer: Consumer, entry: QueueEntry): void {
    this.stats.delivered++;
    if (!consumer.noAck) {
      entry.consumer = consumer;
      consumer.unacked++;
      this.unackedCount++;
    }
    consumer.session.deliver(consumer, entry);
  }
}
