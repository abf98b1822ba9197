import type { FieldTable } from '../../../codec/types.js';
import type { Binding } from '../../binding.js';
import type { Consumer } from '../../delivery/consumer.js';
import type { Message } from '../../message.js';
import type { DurabilityPoints } from '../../durability.js';
import { NO_COUNTS, type DeadLetterReason, type Queue, type QueueLifecycle, type QueueStats } from '../queue.js';
import type { QueueFlags } from '../queue-type.js';
import { FifoBuffer, type MessageBuffer } from './message-buffer.js';
import { PriorityBuffer } from './priority-buffer.js';
import { DeclaredQueue } from './declared-queue.js';
import { QueueEntry } from '../queue-entry.js';
import { ConsumerSelection } from './consumer-selection.js';
import { effectiveTtl, redeliver } from '../redelivery.js';
import { ExpiryAndOverflow } from './expiry-and-overflow.js';
import type { MessageStore } from '../../../store/message-store.js';
import { StoredEntries } from './stored-entries.js';
import { QueuePager, type MemoryPaging, type PagedQueue } from './queue-pager.js';
import { SmallSet } from '../../../util/small-collections.js';

/**
 * A classic queue (`x-queue-type: classic`, the default): ready messages in delivery order
 * (a FIFO or, with x-max-priority, a priority buffer), its consumers, and the dispatch loop
 * that hands messages to consumers with credit (AMQP 0-9-1 §3.1.5) in the order
 * consumer-selection.ts picks them; TTL, length limits and overflow (expiry-and-overflow.ts),
 * delivery limits and dead-lettering as RabbitMQ's classic queues do them; a durable one's
 * records in the journal (stored-entries.ts) and its backlog paged out (queue-pager.ts).
 *
 * Dispatch is synchronous: an enqueue, an ack freeing credit or a consumer becoming writable
 * delivers right away, with no timer or promise per message. (Members are documented on `Queue`.)
 */
export class ClassicQueue extends DeclaredQueue implements Queue, PagedQueue {
  readonly #selection = new ConsumerSelection();
  get consumers(): Consumer[] {
    return this.#selection.list;
  }
  readonly inbound = new SmallSet<Binding>();
  unackedCount = 0;
  /** body bytes of ready messages (for x-max-length-bytes) */
  readyBytes = 0;
  storeId = 0;
  /** kept until dead-lettered: a quorum queue's at-least-once backlog */
  deadLetterBacklog = 0;
  deadLetterBacklogBytes = 0;
  /** made by the first thing counted: an idle queue reads the shared zeros (`counters`) */
  #stats: QueueStats | null = null;
  get stats(): QueueStats {
    return (this.#stats ??= { published: 0, delivered: 0, acked: 0, redelivered: 0, expired: 0, deadLettered: 0, dropped: 0 });
  }
  get counters(): Readonly<QueueStats> {
    return this.#stats ?? NO_COUNTS;
  }

  readonly #buffer: MessageBuffer;
  protected readonly lifecycle: QueueLifecycle;
  #seq = 0;
  #dispatching = false;
  /**
   * Made on first use, as an idle queue (most of a broker's with many idle devices) needs none
   * of them: TTL, x-expires, length limits and overflow (expiry-and-overflow.ts; dropped again
   * while it holds no timer), the backlog paged to the store, the records in it (a durable queue's)
   */
  #limitsOrNull: ExpiryAndOverflow | null = null;
  #pager: QueuePager | null = null;
  #storedOrNull: StoredEntries | null = null;
  #store: MessageStore | null = null;
  #memory: MemoryPaging | undefined = undefined;

  constructor(name: string, vhost: string, flags: QueueFlags, lifecycle: QueueLifecycle) {
    super(name, vhost, flags);
    this.lifecycle = lifecycle;
    this.#buffer = flags.maxPriority > 0 ? new PriorityBuffer(flags.maxPriority) : new FifoBuffer();
    this.touch();
  }

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
  attachStore(store: MessageStore, storeId: number, recovered: boolean, memory?: MemoryPaging): void {
    this.#store = store;
    this.#memory = memory;
    this.storeId = storeId;
    this.#seq = Math.max(this.#seq, store.nextSeq(storeId) - 1);
    if (recovered && this.maxPriority === 0 && store.queueLength(storeId) > 0) {
      this.readyBytes += this.#ownPager!.adoptBacklog();
      this.#pager!.refillIfLow();
    }
  }

  get #limits(): ExpiryAndOverflow {
    return (this.#limitsOrNull ??= new ExpiryAndOverflow(this, this.#buffer, this.lifecycle.flow));
  }

  /** a FIFO durable queue's pager (priority queues do not page), made on the first message */
  get #ownPager(): QueuePager | null {
    return this.#store === null || this.maxPriority !== 0 ? null : (this.#pager ??= new QueuePager(this, this.#store, this.#memory));
  }

  get #stored(): StoredEntries | null {
    return this.#store === null ? null : (this.#storedOrNull ??= new StoredEntries(this.#store, this.storeId));
  }

  reserveSeq(): number {
    return ++this.#seq;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  hasExclusiveConsumer(): boolean {
    return this.#selection.hasExclusive();
  }

  enqueue(message: Message, points: DurabilityPoints): boolean {
    if (!this.admit(message)) return false;
    this.push(message, ++this.#seq, false, points);
    return true;
  }

  /** x-overflow reject-publish(-dlx), expiry-and-overflow.ts */
  admit(message: Message): boolean {
    const s = this.settings;
    return (s.maxLength < 0 && s.maxLengthBytes < 0) || this.#limits.admit(message);
  }

  /** @internal refused by reject-publish-dlx: dead-lettered (reason maxlen) */
  refused(message: Message): void {
    this.lifecycle.deadLetter(this, message, 'maxlen');
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
      const consumer = this.#buffer.length === 0 && this.pagedCount === 0 ? this.#selection.pick(this.settings.singleActiveConsumer) : null;
      if (consumer) this.#deliver(consumer, entry);
      else this.#limits.expire(entry);
      return;
    }
    if (ttl > 0) entry.expiresAt = Date.now() + ttl;
    const pager = this.#ownPager;
    if (pager?.mustPage()) {
      // beyond the memory window: the store keeps it, the queue only counts it
      if (!stored) this.#stored?.storeTransient(message, seq, entry.expiresAt);
      pager.pageOut(message.size);
      this.readyBytes += message.size;
      if (s.overflow === 'drop-head') this.#limits.dropHeadOverLimit();
      return;
    }
    pager?.noteWindowed(seq);
    this.#buffer.push(entry);
    this.readyBytes += message.size;
    if (this.consumers.length > 0) this.dispatch();
    if (ttl > 0) this.#limits.scheduleExpiry();
    if (s.overflow === 'drop-head') this.#limits.dropHeadOverLimit();
    // held in memory only (nothing pages it out): past the flow mark its publisher is held (publisher-flow.ts)
    if (pager === null) this.lifecycle.flow.pushed(this);
  }

  /** Put an entry read back from the store at the back of the window (QueuePager). */
  windowAppend(entry: QueueEntry): void {
    this.#buffer.push(entry);
    if (entry.expiresAt !== 0) this.#limits.scheduleExpiry();
  }

  dispatch(): void {
    if (this.#dispatching || this.deleted) return;
    this.#dispatching = true;
    try {
      const buffer = this.#buffer;
      let now = 0;
      while (buffer.length > 0) {
        const consumer = this.#selection.pick(this.settings.singleActiveConsumer);
        if (!consumer) break;
        const entry = buffer.shift() as QueueEntry;
        this.readyBytes -= entry.message.size;
        if (entry.expiresAt !== 0) {
          if (now === 0) now = Date.now();
          if (entry.expiresAt <= now) {
            this.#limits.expire(entry);
            continue;
          }
        }
        this.#deliver(consumer, entry);
      }
    } finally {
      this.#dispatching = false;
    }
    this.#pager?.refillIfLow();
    this.lifecycle.flow.check(this);
  }

  /** basic.get: the next ready, unexpired message, or undefined */
  take(): QueueEntry | undefined {
    this.touch();
    this.#limits.expireHead(Date.now());
    const entry = this.#buffer.shift();
    if (entry) {
      this.readyBytes -= entry.message.size;
      entry.delivered = true;
      this.stats.delivered++;
      if (entry.stored) this.#stored?.taken(entry.seq);
    }
    this.#pager?.refillIfLow();
    this.lifecycle.flow.check(this);
    return entry;
  }

  /** a consumer's ack lets the store leave out a record not yet written (src/store/elision.ts) */
  protected readonly consumedSkipsJournal: boolean = true;

  settle(entry: QueueEntry): void {
    this.#release(entry);
    this.forget(entry, this.consumedSkipsJournal);
    this.stats.acked++;
  }

  /** A delivery was rejected without requeue: dead-letter it (reason `rejected`) or drop it. */
  reject(entry: QueueEntry): void {
    this.#release(entry);
    this.deadLetterEntry(entry, 'rejected');
  }

  /** A delivery was given back (delivery limit, back-off: redelivery.ts). Call `dispatch` after. */
  requeue(entry: QueueEntry, explicit = false): void {
    this.#release(entry);
    if (!this.deleted) redeliver(this, entry, explicit, this.lifecycle.scheduler);
  }

  restore(entry: QueueEntry): void {
    if (this.deleted) return;
    this.#buffer.requeue(entry);
    this.readyBytes += entry.message.size;
    if (entry.expiresAt !== 0) this.#limits.scheduleExpiry();
  }

  trackUnacked(entry: QueueEntry): void {
    this.unackedCount++;
    if (entry.stored) this.#stored?.keep(entry.seq, true);
  }

  /** Drop every ready message (delivered-unacked ones stay, AMQP queue.purge). */
  purge(): number {
    const n = this.messageCount;
    this.readyBytes = 0;
    this.#buffer.clear();
    this.#pager?.reset();
    if (!this.deleted) this.#stored?.purge(this.#seq);
    this.lifecycle.flow.check(this);
    return n;
  }

  addConsumer(consumer: Consumer): void {
    this.#selection.add(consumer);
    if (this.#limitsOrNull?.clearIdleTimer()) this.#limitsOrNull = null;
    this.dispatch();
  }

  removeConsumer(consumer: Consumer, notify = true): void {
    if (!this.#selection.remove(consumer)) return;
    if (this.consumers.length === 0) this.touch();
    this.lifecycle.flow.check(this);
    if (notify) this.checkUnused();
    // with a single active consumer, the next in line takes over now
    if (!this.deleted && this.consumers.length > 0) this.dispatch();
  }

  /** auto-delete: once it had consumers and the last one is gone (AMQP 0-9-1 queue.declare auto-delete) */
  checkUnused(): void {
    if (this.autoDelete && this.#selection.hadConsumers && this.consumers.length === 0 && !this.deleted) {
      this.lifecycle.queueUnused(this);
    }
  }

  get activeConsumer(): Consumer | undefined {
    return this.#selection.active(this.settings.singleActiveConsumer);
  }

  /** queue.declare of the existing queue: it counts as use, renewing the x-expires lease (RabbitMQ docs "Queue TTL") */
  redeclared(): void {
    this.touch();
  }

  /** x-expires: (re)start the idle clock — on declare, basic.get and when the last consumer goes */
  touch(): void {
    if (this.settings.expires > 0) this.#limits.touch();
  }

  /** @internal x-expires ran out (ExpiryAndOverflow) */
  expired(): void {
    this.lifecycle.queueExpired(this);
  }

  /** Called by the vhost when the queue is deleted: stop timers, drop messages. */
  destroy(): void {
    this.deleted = true;
    this.stopTimers();
    this.purge();
  }

  stopTimers(): void {
    this.#limitsOrNull?.stop();
  }

  /**
   * New effective arguments (a policy was set or cleared): apply them to the running queue —
   * limits take effect now, the idle clock and expiry timer restart.
   */
  applySettings(effectiveArgs: FieldTable, policy: string | null): void {
    this.settings = this.settingsFor(effectiveArgs);
    this.policy = policy;
    this.#limits.settingsChanged();
  }

  readyEntries(): IterableIterator<QueueEntry> {
    return this.#buffer[Symbol.iterator]();
  }

  /** The entry leaves the queue for its dead-letter exchange, or is dropped when it has none. */
  deadLetterEntry(entry: QueueEntry, reason: DeadLetterReason): void {
    this.forget(entry);
    if (!this.deleted) this.lifecycle.deadLetter(this, entry.message, reason);
  }

  /** Keep a settled entry's stored record through a purge (it is still the queue's to finish). */
  protected keepStored(entry: QueueEntry, keep: boolean): void {
    if (entry.stored) this.#stored?.keep(entry.seq, keep);
  }

  /** The entry left the queue for good: the store records it (an ACK record); `consumed` by a consumer's ack. */
  protected forget(entry: QueueEntry, consumed = false): void {
    if (entry.stored && !this.deleted) this.#stored?.ack(entry.seq, consumed);
  }

  // ---- internals -------------------------------------------------------------------------

  #release(entry: QueueEntry): void {
    entry.consumer?.settled(entry.message.size);
    entry.consumer = null;
    this.unackedCount--;
    if (entry.stored) this.#stored?.keep(entry.seq, false);
  }

  #deliver(consumer: Consumer, entry: QueueEntry): void {
    this.stats.delivered++;
    entry.delivered = true;
    if (!consumer.noAck) {
      entry.consumer = consumer;
      consumer.took(entry.message.size);
      this.unackedCount++;
      if (entry.stored) this.#stored?.delivered(entry.seq);
    } else {
      this.forget(entry); // no-ack: delivered means done
    }
    consumer.session.deliver(consumer, entry);
  }
}
