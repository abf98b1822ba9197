import type { FieldTable } from '../../../codec/types.js';
import type { Binding } from '../../binding.js';
import type { Consumer } from '../../delivery/consumer.js';
import type { Message } from '../../message.js';
import type { DurabilityPoints } from '../../durability.js';
import type { DeadLetterReason, Queue, QueueLifecycle } from '../queue.js';
import { FifoBuffer, type MessageBuffer } from './message-buffer.js';
import { PriorityBuffer } from './priority-buffer.js';
import { CLASSIC_TYPE, settingsFrom, type QueueSettings } from '../queue-arguments.js';
import { QueueEntry } from '../queue-entry.js';
import { ConsumerRing } from './consumer-ring.js';
import { BackoffReturn, effectiveTtl, MAX_TIMER_MS, withDeliveryCount } from '../redelivery.js';
import { encodeProperties } from '../../../codec/basic-properties.js';
import type { MessageStore, StoredMessage } from '../../../store/message-store.js';
import { MSG_FLAG_TRANSIENT } from '../../../store/format.js';
import { QueuePager, type PagedQueue } from './queue-pager.js';

export interface QueueFlags {
  durable: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /** 0 for a classic FIFO queue, 1–255 for a priority queue */
  maxPriority: number;
  /** id of the connection that owns an exclusive queue, or 0 */
  ownerId: number;
}

/**
 * A classic queue (`x-queue-type: classic`, the default): ready messages in delivery order, its consumers, and the dispatch loop that hands
 * messages to consumers with credit (AMQP 0-9-1 §3.1.5), highest consumer priority first,
 * round-robin among equals; TTL, length limits, delivery limits and dead-lettering as
 * RabbitMQ's classic queues do them.
 *
 * Dispatch is synchronous: an enqueue, an ack freeing credit or a consumer becoming writable
 * delivers right away, with no timer or promise per message.
 */
export class ClassicQueue implements Queue, PagedQueue {
  readonly kind = 'queue' as const;
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** as declared (a stream's may be replaced later: StreamView.setArguments) */
  arguments: FieldTable;
  readonly maxPriority: number;
  readonly ownerId: number;
  readonly #ring = new ConsumerRing();
  /** sorted by consumer priority, highest first; registration order within a priority */
  readonly consumers: Consumer[] = this.#ring.list;
  /** bindings that lead here */
  readonly inbound = new Set<Binding>();
  settings: QueueSettings;
  /** name of the policy in effect, if any (for operators) */
  policy: string | null = null;
  /** routing pass that last reached this queue (see ExchangeRouter.route) */
  routeMark = 0;
  deleted = false;
  /** deliveries made and not yet settled */
  unackedCount = 0;
  /** body bytes of ready messages (for x-max-length-bytes) */
  readyBytes = 0;
  /** the vhost's message store and this queue's id in it, when the queue is durable */
  store: MessageStore | null = null;
  storeId = 0;
  /** messages the queue keeps until their dead-lettering succeeds (quorum at-least-once), and their bytes */
  deadLetterBacklog = 0;
  deadLetterBacklogBytes = 0;
  /** counters for operators */
  readonly stats = { published: 0, delivered: 0, acked: 0, redelivered: 0, expired: 0, deadLettered: 0, dropped: 0 };

  readonly #buffer: MessageBuffer;
  protected readonly lifecycle: QueueLifecycle;
  #seq = 0;
  #dispatching = false;
  #hadConsumers = false;
  #expiryTimer: NodeJS.Timeout | null = null;
  #expiryTimerAt = 0;
  #idleTimer: NodeJS.Timeout | null = null;
  #pager: QueuePager | null = null;
  /** seqs of stored entries delivered and not yet settled: kept by a purge (AMQP queue.purge) */
  readonly #unackedStored = new Set<number>();

  constructor(name: string, vhost: string, flags: QueueFlags, lifecycle: QueueLifecycle) {
    this.name = name;
    this.vhost = vhost;
    this.durable = flags.durable;
    this.autoDelete = flags.autoDelete;
    this.arguments = flags.arguments;
    this.maxPriority = flags.maxPriority;
    this.ownerId = flags.ownerId;
    this.lifecycle = lifecycle;
    this.#buffer = flags.maxPriority > 0 ? new PriorityBuffer(flags.maxPriority) : new FifoBuffer();
    this.settings = this.settingsFor(flags.arguments);
    this.touch();
  }

  /** Settings from effective arguments; a queue kind with other defaults overrides this. */
  protected settingsFor(args: FieldTable): QueueSettings {
    return settingsFrom(args);
  }

  get type(): string {
    return CLASSIC_TYPE;
  }

  /** Whether every message is stored, whatever its delivery mode (quorum queues). */
  get storesEveryMessage(): boolean {
    return false;
  }

  /** Whether redeliveries carry `x-delivery-count` (with a delivery limit; always for quorum queues). */
  protected get countsDeliveries(): boolean {
    return this.settings.deliveryLimit >= 0;
  }

  get exclusive(): boolean {
    return this.ownerId !== 0;
  }

  /** ready messages (not counting delivered-unacked ones), as AMQP message-count reports */
  get messageCount(): number {
    return this.#buffer.length + (this.#pager?.paged ?? 0);
  }

  /** ready messages held as objects in memory (the rest are paged out to the store) */
  get windowLength(): number {
    return this.#buffer.length;
  }

  get windowBytes(): number {
    return this.readyBytes - (this.#pager?.pagedBytes ?? 0);
  }

  get pagedCount(): number {
    return this.#pager?.paged ?? 0;
  }

  /**
   * Make this durable queue persist its entries in `store` under `storeId`, continuing its
   * seqs above the store's. A FIFO queue then pages its backlog beyond a memory window out
   * to the store; with `recovered`, what the store holds becomes the queue's backlog.
   */
  attachStore(store: MessageStore, storeId: number, recovered: boolean): void {
    this.store = store;
    this.storeId = storeId;
    this.#seq = Math.max(this.#seq, store.nextSeq(storeId) - 1);
    if (this.maxPriority === 0) this.#pager = new QueuePager(this, store);
    if (recovered && this.#pager) {
      this.#pager.paged = store.queueLength(storeId);
      this.#pager.pagedBytes = store.queueBytes(storeId);
      this.readyBytes += this.#pager.pagedBytes;
      this.#pager.refillIfLow();
    }
  }

  /** The next seq, for a message the vhost stores before enqueueing it with `push`. */
  reserveSeq(): number {
    return ++this.#seq;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get globalQosAllowed(): boolean {
    return true;
  }

  /** A classic queue takes any consumer the session allows. */
  validateConsumer(_consumer: Consumer): void {}

  hasExclusiveConsumer(): boolean {
    return this.consumers.length > 0 && this.consumers.some((c) => c.exclusive);
  }

  /**
   * Take a routed message. @returns false when the queue refused it (x-overflow
   * reject-publish: the publisher gets a negative confirm).
   */
  enqueue(message: Message, points: DurabilityPoints): boolean {
    if (!this.admit(message)) return false;
    this.push(message, ++this.#seq, false, points);
    return true;
  }

  /** x-overflow reject-publish(-dlx): whether the queue takes one more message now. */
  admit(message: Message): boolean {
    const s = this.settings;
    if (s.overflow === 'drop-head' || !this.#full(message.size)) return true;
    this.stats.dropped++;
    if (s.overflow === 'reject-publish-dlx') this.lifecycle.deadLetter(this, message, 'maxlen');
    return false;
  }

  /** Add an admitted message under `seq` (`stored`: already in the message store; nothing goes to `_points`). */
  push(message: Message, seq: number, stored: boolean, _points: DurabilityPoints): void {
    const s = this.settings;
    const priority = this.maxPriority === 0 ? 0 : Math.min(message.priority, this.maxPriority);
    const entry = new QueueEntry(message, seq, this, priority);
    entry.stored = stored;
    this.stats.published++;
    const ttl = effectiveTtl(s.messageTtl, message.ttl);
    if (ttl === 0) {
      // RabbitMQ: a TTL of 0 expires the message at once unless a consumer can take it now.
      // After any dispatch either nothing is ready or no consumer has credit, so only an
      // empty queue can hand it over immediately.
      const consumer = this.#buffer.length === 0 && this.pagedCount === 0 ? this.#ring.pick(this.settings.singleActiveConsumer) : null;
      if (consumer) this.#deliver(consumer, entry);
      else this.#expire(entry);
      return;
    }
    if (ttl > 0) entry.expiresAt = Date.now() + ttl;
    if (this.#pager?.mustPage()) {
      // beyond the memory window: the store keeps it, the queue only counts it
      if (!stored) this.#storeTransient(message, seq, entry.expiresAt);
      this.#pager.pageOut(message.size);
      this.readyBytes += message.size;
      if (s.overflow === 'drop-head') this.#dropHeadOverLimit();
      return;
    }
    this.#pager?.noteWindowed(seq);
    this.#buffer.push(entry);
    this.readyBytes += message.size;
    if (this.consumers.length > 0) this.dispatch();
    if (ttl > 0) this.#scheduleExpiry();
    if (s.overflow === 'drop-head') this.#dropHeadOverLimit();
  }

  /** Put a message read back from the store at the back of the window (QueuePager). */
  restorePaged(message: Message, sm: StoredMessage): void {
    const priority = this.maxPriority === 0 ? 0 : Math.min(message.priority, this.maxPriority);
    const entry = new QueueEntry(message, sm.seq, this, priority);
    entry.stored = true;
    entry.redelivered = sm.redelivered;
    const ttl = this.settings.messageTtl;
    let expiresAt = sm.expiresAt;
    if (ttl >= 0 && (expiresAt === 0 || sm.publishedAt + ttl < expiresAt)) expiresAt = sm.publishedAt + ttl;
    entry.expiresAt = expiresAt;
    this.#buffer.push(entry);
    if (expiresAt !== 0) this.#scheduleExpiry();
  }

  /** Hand ready messages to consumers with credit until one side runs out. */
  dispatch(): void {
    if (this.#dispatching || this.deleted) return;
    this.#dispatching = true;
    try {
      const buffer = this.#buffer;
      let now = 0;
      while (buffer.length > 0) {
        const consumer = this.#ring.pick(this.settings.singleActiveConsumer);
        if (!consumer) break;
        const entry = buffer.shift() as QueueEntry;
        this.readyBytes -= entry.message.size;
        if (entry.expiresAt !== 0) {
          if (now === 0) now = Date.now();
          if (entry.expiresAt <= now) {
            this.#expire(entry);
            continue;
          }
        }
        this.#deliver(consumer, entry);
      }
    } finally {
      this.#dispatching = false;
    }
    this.#pager?.refillIfLow();
  }

  /** basic.get: the next ready, unexpired message, or undefined */
  take(): QueueEntry | undefined {
    this.touch();
    this.#expireHead(Date.now());
    const entry = this.#buffer.shift();
    if (entry) {
      this.readyBytes -= entry.message.size;
      entry.delivered = true;
      this.stats.delivered++;
      if (entry.stored) this.store?.markDelivered(this.storeId, entry.seq);
    }
    this.#pager?.refillIfLow();
    return entry;
  }

  /** A delivery was acked: it leaves the queue for good. */
  settle(entry: QueueEntry): void {
    this.#release(entry);
    this.forget(entry);
    this.stats.acked++;
  }

  /** A delivery was rejected without requeue: dead-letter it (reason `rejected`) or drop it. */
  reject(entry: QueueEntry): void {
    this.#release(entry);
    this.deadLetterEntry(entry, 'rejected');
  }

  /**
   * A delivery was given back: it returns to its place, flagged redelivered — unless it has
   * now been delivered more than x-delivery-limit times. An explicit nack/reject with requeue
   * on a queue with x-redelivery-backoff returns only after the next back-off delay.
   * Call `dispatch` after.
   */
  requeue(entry: QueueEntry, explicit = false): void {
    this.#release(entry);
    if (this.deleted) return;
    entry.redelivered = true;
    entry.deliveryCount++;
    const limit = this.settings.deliveryLimit;
    if (limit >= 0 && entry.deliveryCount > limit) {
      this.deadLetterEntry(entry, 'delivery_limit');
      return;
    }
    if (this.countsDeliveries) entry.message = withDeliveryCount(entry.message, entry.deliveryCount);
    this.stats.redelivered++;
    const backoff = this.settings.redeliveryBackoff;
    if (explicit && backoff.length > 0) {
      const delay = backoff[Math.min(entry.deliveryCount, backoff.length) - 1];
      this.lifecycle.scheduler.schedule(Date.now() + delay, new BackoffReturn(this, entry));
      return;
    }
    this.restore(entry);
  }

  /** Put an entry back among the ready messages at its original position. */
  restore(entry: QueueEntry): void {
    if (this.deleted) return;
    this.#buffer.requeue(entry);
    this.readyBytes += entry.message.size;
    this.#scheduleExpiry();
  }

  /** A basic.get made with manual ack: the entry is out and unacked. */
  trackUnacked(entry: QueueEntry): void {
    this.unackedCount++;
    if (entry.stored) this.#unackedStored.add(entry.seq);
  }

  /** Drop every ready message (delivered-unacked ones stay, AMQP queue.purge). */
  purge(): number {
    const n = this.messageCount;
    this.readyBytes = 0;
    this.#buffer.clear();
    this.#pager?.reset();
    if (this.storeId !== 0 && !this.deleted) this.store?.purge(this.storeId, this.#seq, this.#unackedStored);
    return n;
  }

  addConsumer(consumer: Consumer): void {
    this.#ring.add(consumer);
    this.#hadConsumers = true;
    this.#clearIdleTimer();
    this.dispatch();
  }

  /** @param notify whether the queue may auto-delete now (false while a session is tearing down) */
  removeConsumer(consumer: Consumer, notify = true): void {
    if (!this.#ring.remove(consumer)) return;
    if (this.consumers.length === 0) this.touch();
    if (notify) this.checkUnused();
    // with a single active consumer, the next in line takes over now
    if (!this.deleted && this.consumers.length > 0) this.dispatch();
  }

  /** auto-delete: once it had consumers and the last one is gone (AMQP 0-9-1 queue.declare auto-delete) */
  checkUnused(): void {
    if (this.autoDelete && this.#hadConsumers && this.consumers.length === 0 && !this.deleted) {
      this.lifecycle.queueUnused(this);
    }
  }

  /** The single active consumer, if the queue has that mode and any consumer. */
  get activeConsumer(): Consumer | undefined {
    return this.settings.singleActiveConsumer ? this.#ring.earliest() : undefined;
  }

  /** queue.declare of the existing queue: it counts as use, renewing the x-expires lease (RabbitMQ docs "Queue TTL") */
  redeclared(): void {
    this.touch();
  }

  /** x-expires: (re)start the idle clock — on declare, basic.get and when the last consumer goes */
  touch(): void {
    const ms = this.settings.expires;
    if (ms <= 0 || this.deleted || this.consumers.length > 0) return;
    this.#clearIdleTimer();
    this.#armIdleTimer(Date.now() + ms);
  }

  /** setTimeout waits at most ~24.8 days: longer x-expires values re-arm until the deadline. */
  #armIdleTimer(deadline: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.deleted || this.consumers.length > 0) return;
      if (Date.now() < deadline) this.#armIdleTimer(deadline);
      else this.lifecycle.queueExpired(this);
    }, Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS));
    this.#idleTimer.unref();
  }

  /** Called by the vhost when the queue is deleted: stop timers, drop messages. */
  destroy(): void {
    this.deleted = true;
    this.stopTimers();
    this.purge();
  }

  /** The broker is stopping: no timer of this queue may fire into closed stores. */
  stopTimers(): void {
    this.#clearIdleTimer();
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
  }

  /**
   * New effective arguments (a policy was set or cleared): apply them to the running queue —
   * limits take effect now, the idle clock and expiry timer restart.
   */
  applySettings(effectiveArgs: FieldTable, policy: string | null): void {
    this.settings = this.settingsFor(effectiveArgs);
    this.policy = policy;
    if (this.settings.overflow === 'drop-head') this.#dropHeadOverLimit();
    this.#clearIdleTimer();
    this.touch();
    this.#scheduleExpiry();
  }

  /** Everything still ready, for deletion and inspection. */
  readyEntries(): IterableIterator<QueueEntry> {
    return this.#buffer[Symbol.iterator]();
  }

  /** The entry leaves the queue for its dead-letter exchange, or is dropped when it has none. */
  protected deadLetterEntry(entry: QueueEntry, reason: DeadLetterReason): void {
    this.forget(entry);
    if (!this.deleted) this.lifecycle.deadLetter(this, entry.message, reason);
  }

  /** Keep a settled entry's stored record through a purge (it is still the queue's to finish). */
  protected keepStored(entry: QueueEntry, keep: boolean): void {
    if (!entry.stored) return;
    if (keep) this.#unackedStored.add(entry.seq);
    else this.#unackedStored.delete(entry.seq);
  }

  /** The entry left the queue for good: the store records it (an ACK record). */
  protected forget(entry: QueueEntry): void {
    if (entry.stored && !this.deleted) this.store?.ack(this.storeId, entry.seq);
  }

  // ---- internals -------------------------------------------------------------------------

  #release(entry: QueueEntry): void {
    if (entry.consumer) entry.consumer.unacked--;
    entry.consumer = null;
    this.unackedCount--;
    if (entry.stored) this.#unackedStored.delete(entry.seq);
  }

  /** A transient message that must be paged out goes to the journal flagged not to be recovered. */
  #storeTransient(message: Message, seq: number, expiresAt: number): void {
    const store = this.store as MessageStore;
    const props = message.encodedProperties ?? encodeProperties(message.properties);
    store.appendMessage(message, props, expiresAt, [this.storeId], [seq], 1, MSG_FLAG_TRANSIENT);
  }

  /**
   * x-overflow reject-publish: would a message of `size` bytes take the queue over a limit?
   * (RabbitMQ rabbit_amqqueue_process: ready count + 1 > max length, ready bytes + size > max bytes)
   */
  #full(size: number): boolean {
    const s = this.settings;
    return (
      (s.maxLength >= 0 && this.messageCount + this.deadLetterBacklog >= s.maxLength) ||
      (s.maxLengthBytes >= 0 && this.readyBytes + this.deadLetterBacklogBytes + size > s.maxLengthBytes)
    );
  }

  /** x-overflow drop-head: drop (dead-letter, reason maxlen) from the head while over a limit */
  #dropHeadOverLimit(): void {
    const s = this.settings;
    while (
      this.#buffer.length > 0 &&
      ((s.maxLength >= 0 && this.#buffer.length > s.maxLength) ||
        (s.maxLengthBytes >= 0 && this.readyBytes > s.maxLengthBytes))
    ) {
      const entry = this.#buffer.shift() as QueueEntry;
      this.readyBytes -= entry.message.size;
      this.stats.dropped++;
      this.deadLetterEntry(entry, 'maxlen');
    }
  }

  #expire(entry: QueueEntry): void {
    this.stats.expired++;
    this.deadLetterEntry(entry, 'expired');
  }

  /** Remove expired messages from the head (RabbitMQ expires from the head only; deeper ones are skipped at delivery). */
  #expireHead(now: number): void {
    const buffer = this.#buffer;
    for (let head = buffer.peek(); head && head.expiresAt !== 0 && head.expiresAt <= now; head = buffer.peek()) {
      buffer.shift();
      this.readyBytes -= head.message.size;
      this.#expire(head);
    }
  }

  /** Keep one timer for the head's expiry, so expired messages are dead-lettered on time. */
  #scheduleExpiry(): void {
    const head = this.#buffer.peek();
    if (!head || head.expiresAt === 0 || this.deleted) return;
    if (this.#expiryTimer && this.#expiryTimerAt <= head.expiresAt) return;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimerAt = head.expiresAt;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = null;
      this.#expireHead(Date.now());
      this.#scheduleExpiry();
    }, Math.min(Math.max(0, head.expiresAt - Date.now()), MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #deliver(consumer: Consumer, entry: QueueEntry): void {
    this.stats.delivered++;
    entry.delivered = true;
    if (!consumer.noAck) {
      entry.consumer = consumer;
      consumer.unacked++;
      this.unackedCount++;
      if (entry.stored) {
        this.#unackedStored.add(entry.seq);
        this.store?.markDelivered(this.storeId, entry.seq);
      }
    } else {
      this.forget(entry); // no-ack: delivered means done
    }
    consumer.session.deliver(consumer, entry);
  }
}
