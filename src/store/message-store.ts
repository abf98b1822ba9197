/**
 * The contract between the broker core and a message store (STYLE.md §3 rule 6: two
 * implementations — `FileStore` for durable queues, `MemoryStore` for transient use and tests
 * — and one contract test suite, test/store/contract.test.ts).
 *
 * Ordering rules the caller keeps (docs/store.md §"What the core must do"):
 * - queue ids are never reused (SQLite AUTOINCREMENT), and a deleted queue id is never
 *   appended to again;
 * - per queue, seqs passed to `appendMessage` increase; after a restart they continue above
 *   `nextSeq(queueId)`;
 * - `properties` and `body` buffers are not modified after they are handed over (the journal
 *   writes them as they are, later in the same event-loop turn).
 */
import type { DurableListener } from './journal.js';
import type { StoreMetricsSnapshot } from './metrics.js';
import type { LargeBody, LargeBodyWriter } from './large-body.js';

export type { DurableListener };
export { MSG_FLAG_TRANSIENT as TRANSIENT_MESSAGE } from './format.js';

/** The message fields the store keeps (the core's `Message` has this shape). */
export interface MessageToStore {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  /** a body kept in the journal (large-body.ts); `body` is then empty */
  readonly bodyRef?: LargeBody | null;
  /** ms since the epoch */
  readonly publishedAt: number;
  readonly priority: number;
}

/** A message as read back from the store, for one queue. */
export interface StoredMessage {
  readonly queueId: number;
  readonly seq: number;
  /** the store's id of the record (the same for every queue a message reached) */
  readonly msgId: number;
  readonly exchange: string;
  readonly routingKey: string;
  /** AMQP basic-properties bytes, as given to `appendMessage` */
  readonly properties: Buffer;
  readonly body: Buffer;
  /** set when the body stayed in the journal (large-body.ts): read it from there */
  bodyRef?: LargeBody | null;
  readonly publishedAt: number;
  /** ms since the epoch, 0 = never */
  readonly expiresAt: number;
  readonly priority: number;
  /** may have been delivered before (recovered after an unclean stop, or delivered before a clean one) */
  readonly redelivered: boolean;
}

export interface ReadRequest {
  queueId: number;
  /** read entries with a seq above this one (0: from the head) */
  afterSeq: number;
  maxCount: number;
  /** stop once this many body bytes are picked (at least one message); default unlimited */
  maxBytes?: number;
  /** only entries of this priority (priority queues page each level); default any */
  priority?: number;
}

export interface ReadListener {
  /**
   * The live messages picked by a read, in seq order. Entries removed while the read was in
   * flight are left out. With `error` set, some entries could not be read (their records
   * failed the checksum: bit rot); the messages that could be read are still given.
   */
  onMessages(token: number, messages: StoredMessage[], error: Error | null): void;
}

export interface MessageStore {
  /** whether appends survive a restart */
  readonly durable: boolean;
  /** LSN up to which appends are durable */
  readonly durableLsn: number;
  /** set once a write failed: the store is read-only, appends throw */
  readonly failure: Error | null;

  /**
   * Store a message for `count` distinct queues (`queueIds[i]` at `seqs[i]`): one record
   * however many queues it reaches. Synchronous; @returns its LSN for `whenDurable`.
   * `flags` TRANSIENT_MESSAGE: a transient message paged out of a deep queue's memory —
   * readable, but not recovered after a restart.
   * @throws RangeError when a seq does not increase, BrokerError when the store is read-only
   */
  appendMessage(
    message: MessageToStore,
    properties: Buffer,
    expiresAt: number,
    queueIds: ArrayLike<number>,
    seqs: ArrayLike<number>,
    count: number,
    flags?: number,
  ): number;
  /**
   * An entry left its queue (acked, expired, dropped, dead-lettered). `consumed`: a consumer
   * acknowledged it — a record not yet written whose every copy was consumed need never be
   * (the confirm rule: durable, or consumed and acknowledged on every queue it reached).
   * @returns false if it was not live
   */
  ack(queueId: number, seq: number, consumed?: boolean): boolean;
  /** Remove every live entry with seq ≤ `upToSeq` except `kept`. @returns how many */
  purge(queueId: number, upToSeq: number, kept?: Iterable<number>): number;
  /** Remove the queue and all its entries. @returns how many entries it held */
  deleteQueue(queueId: number): number;
  /** The entry was handed to a consumer: after a clean restart it comes back redelivered. */
  markDelivered(queueId: number, seq: number): void;

  /** `listener.onDurable(token, error)` once the record with this LSN is durable (in LSN order). */
  whenDurable(lsn: number, listener: DurableListener, token: number): void;
  /** Called with the durable LSN after every group commit. */
  onDurable(listener: (durableLsn: number) => void): void;
  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void>;

  /** Read live messages of a queue asynchronously (bounded-memory paging, recovery). */
  read(request: ReadRequest, listener: ReadListener, token: number): void;

  /** ids of queues with live entries */
  queueIds(): number[];
  queueLength(queueId: number): number;
  /** body bytes of a queue's live entries */
  queueBytes(queueId: number): number;
  /** the seq to continue from: 1 + the highest seq the store knows for this queue */
  nextSeq(queueId: number): number;

  /**
   * Start a body of `size` bytes that is written to the journal as it arrives, to be named by
   * a later `appendMessage` of a message with that `bodyRef` (`finish()`); absent on a store
   * without files.
   */
  beginBody?(size: number): LargeBodyWriter;

  metrics(): StoreMetricsSnapshot;
  /** Flush, sync and release everything; a file store marks a clean shutdown. */
  close(): Promise<void>;
}
