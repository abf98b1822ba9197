import type { FieldTable } from '../../../codec/types.js';
import type { MessageStore } from '../../../store/message-store.js';
import { ClassicQueue } from '../classic/classic-queue.js';
import type { DeadLetterReason, Queue, QueueLifecycle } from '../queue.js';
import type { QueueEntry } from '../queue-entry.js';
import { QUORUM_TYPE, quorumSettingsFrom, type QuorumSettings } from './quorum-arguments.js';
import { DurabilityPoints, whenAllDurable } from '../../durability.js';
import type { MemoryPaging } from '../classic/queue-pager.js';
import type { DurableListener } from '../../../store/durable-waiters.js';

/** How often a quorum queue retries dead-letters no target took yet (at-least-once). */
export const DEAD_LETTER_RETRY_MS = 1000;

/**
 * A quorum queue (`x-queue-type: quorum`) on one node: a durable FIFO queue with RabbitMQ's
 * quorum-queue semantics (rabbitmq.com/docs/quorum-queues). Against a classic queue it
 * - stores every message it takes, whatever the delivery mode ("Per message persistence:
 *   always"), so a confirm waits for the journal's fsync and a restart recovers it;
 * - has a delivery limit by default (20, RabbitMQ 4.x) and marks every redelivery with
 *   `x-delivery-count`; a poison message past the limit is dead-lettered or dropped;
 * - with `x-dead-letter-strategy: at-least-once` (and reject-publish, and a dead-letter
 *   exchange) keeps a dead-lettered message, counted against its length limits, until every
 *   queue it routes to has taken it, retrying every second;
 * - does not renew its x-expires lease on redeclaration (RabbitMQ's feature matrix).
 * There is nothing to replicate to: the leader and only member is this node, so the buffer,
 * dispatch, paging and expiry are the classic queue's, which it extends with the above.
 */
export class QuorumQueue extends ClassicQueue {
  declare settings: QuorumSettings;
  /** dead-lettered entries no target has taken yet, oldest first */
  readonly #pendingDeadLetters: PendingDeadLetter[] = [];
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(name: string, vhost: string, args: FieldTable, lifecycle: QueueLifecycle, store: MessageStore | null, storeId: number, recovered: boolean, memory?: MemoryPaging) {
    super(name, vhost, { durable: true, autoDelete: false, arguments: args, maxPriority: 0, ownerId: 0 }, lifecycle);
    if (store) this.attachStore(store, storeId, recovered, memory);
  }

  /**
   * Never: every message a quorum queue takes is written before its confirm, consumed or not
   * (RabbitMQ's quorum queues append every message to their Raft log), so its log — and a
   * cluster's replicas — hold each one.
   */
  protected override readonly consumedSkipsJournal = false;

  protected override settingsFor(args: FieldTable): QuorumSettings {
    return quorumSettingsFrom(args);
  }

  override get type(): string {
    return QUORUM_TYPE;
  }

  /** rabbit_quorum_queue:consume refuses a channel with a global prefetch (basic.qos global=true). */
  override get globalQosAllowed(): boolean {
    return false;
  }

  override get storesEveryMessage(): boolean {
    return true;
  }

  /** kept whole: at-least-once dead-lettering holds messages past their settle */
  override get recyclesBodies(): boolean {
    return false;
  }

  override get countsDeliveries(): boolean {
    return true;
  }

  /** The lease is not renewed by a redeclaration (quorum queues' partial queue TTL). */
  override redeclared(): void {}

  override deadLetterEntry(entry: QueueEntry, reason: DeadLetterReason): void {
    if (this.settings.deadLetterStrategy !== 'at-least-once' || this.deleted) {
      super.deadLetterEntry(entry, reason);
      return;
    }
    // kept (stored, counted against its limits) until its copies are durable, or retried later
    this.deadLetterBacklog++;
    this.deadLetterBacklogBytes += entry.message.size;
    this.keepStored(entry, true);
    this.#deadLetter(new PendingDeadLetter(this, entry, reason));
  }

  /**
   * Route one pending dead-letter. Taken: the source record goes only once every copy is
   * durable — the copies may sit in other logs (a stream) whose fdatasync comes after the
   * journal's, and an ACK record synced first would lose the message in a crash between the
   * two. Not taken (or a copy failed to sync): kept and retried.
   */
  #deadLetter(p: PendingDeadLetter): void {
    const points = new DurabilityPoints();
    if (this.lifecycle.deadLetter(this, p.entry.message, p.reason, points)) whenAllDurable(points, p, 0);
    else this.#retryLater(p);
  }

  /** @internal the copies of `p` are durable (or one failed) */
  deadLetterSettled(p: PendingDeadLetter, error: Error | null): void {
    if (error !== null && !this.deleted) return this.#retryLater(p);
    this.deadLetterBacklog--;
    this.deadLetterBacklogBytes -= p.entry.message.size;
    this.keepStored(p.entry, false);
    this.forget(p.entry);
  }

  #retryLater(p: PendingDeadLetter): void {
    this.#pendingDeadLetters.push(p);
    this.#armRetry();
  }

  /** Dead-lettered messages waiting for a target (RabbitMQ's messages_dlx). */
  get pendingDeadLetters(): number {
    return this.#pendingDeadLetters.length;
  }

  /** Try every pending dead-letter again, in order; those still refused stay. */
  retryDeadLetters(): void {
    const pending = this.#pendingDeadLetters.splice(0);
    for (const p of pending) {
      // a switch to at-most-once drops what was pending (RabbitMQ deletes it)
      if (this.deleted || this.settings.deadLetterStrategy !== 'at-least-once') this.deadLetterSettled(p, null);
      else this.#deadLetter(p);
    }
  }

  override stopTimers(): void {
    super.stopTimers();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  override destroy(): void {
    super.destroy();
    this.#pendingDeadLetters.length = 0;
    this.deadLetterBacklog = 0;
    this.deadLetterBacklogBytes = 0;
  }

  #armRetry(): void {
    if (this.#retryTimer || this.deleted) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.retryDeadLetters();
    }, DEAD_LETTER_RETRY_MS);
    this.#retryTimer.unref();
  }
}

/** Whether `q` is a quorum queue (asked by its type, for management's quorum fields). */
export function isQuorumQueue(q: Queue): q is QuorumQueue {
  return q.type === QUORUM_TYPE;
}

/** A dead-lettered entry an at-least-once quorum queue keeps until its copies are durable. */
class PendingDeadLetter implements DurableListener {
  constructor(
    readonly queue: QuorumQueue,
    readonly entry: QueueEntry,
    readonly reason: DeadLetterReason,
  ) {}

  onDurable(_token: number, error: Error | null): void {
    this.queue.deadLetterSettled(this, error);
  }
}
