import { encodeProperties } from '../../../codec/basic-properties.js';
import type { FieldTable, MessageProperties } from '../../../codec/types.js';
import type { MetadataStore } from '../../../store/metadata/metadata-store.js';
import type { StreamCommitListener, StreamLog } from '../../../store/stream/stream-log.js';
import type { StreamStore } from '../../../store/stream/stream-store.js';
import type { Binding } from '../../binding.js';
import type { Consumer } from '../../delivery/consumer.js';
import { BrokerError, notImplemented, preconditionFailed } from '../../errors.js';
import { Message } from '../../message.js';
import type { Queue, QueueStats } from '../queue.js';
import { settingsFrom, type QueueSettings } from '../queue-arguments.js';
import { QueueEntry } from '../queue-entry.js';
import { consumerNameOf, parseOffsetSpec, streamSettingsFrom, STREAM_TYPE, type StreamSettings } from './stream-arguments.js';
import { StreamCursor, type CursorOwner } from './stream-cursor.js';
import { StreamTailCache } from './stream-tail-cache.js';
import { StreamOffsets } from './stream-offsets.js';
import { compactionFlagsOf, compactionKeyOf, keyTooLong } from './compaction-key.js';
import type { DurabilityPoints } from '../../durability.js';
import { SmallSet } from '../../../util/small-collections.js';

/** What a stream queue needs besides what every queue gets. */
export interface StreamQueueContext {
  streams: StreamStore;
  meta: MetadataStore;
  /** the stream's queue id (its directory and its offsets' key) */
  streamId: number;
  log: StreamLog;
}

/**
 * A stream (log-mode) queue, `x-queue-type: stream` (rabbitmq.com/docs/streams): messages are
 * appended to the stream's own segment log and never removed by consuming; each consumer
 * reads from its own offset (`x-stream-offset`) with credit (prefetch is required, acks only
 * return credit); retention drops whole old segments. Beyond RabbitMQ's AMQP side: named
 * consumers with stored offsets (`x-stream-consumer-name`), single active consumer per name,
 * and key compaction. docs/streams.md.
 *
 * A `Queue` to the rest of the core (routing, bindings, sessions, policies) that does what a
 * log does: enqueue appends, dispatch walks cursors, settle returns credit, basic.get and
 * queue.purge are refused (540, as RabbitMQ).
 */
export class StreamQueue implements Queue, StreamCommitListener, CursorOwner {
  readonly kind = 'queue' as const;
  readonly name: string;
  readonly vhost: string;
  /** as declared (replaced by StreamView.setArguments, a Kafka topic's AlterConfigs) */
  arguments: FieldTable;
  /** always durable, never exclusive or auto-delete (checked at declare) */
  readonly durable = true;
  readonly autoDelete = false;
  readonly exclusive = false;
  readonly ownerId = 0;
  readonly inbound = new SmallSet<Binding>();
  routeMark = 0;
  deleted = false;
  policy: string | null = null;
  /** the classic settings of its arguments (a stream dead-letters nothing; read by operators) */
  readonly settings: QueueSettings;
  readonly stats: QueueStats = { published: 0, delivered: 0, acked: 0, redelivered: 0, expired: 0, deadLettered: 0, dropped: 0 };
  get counters(): Readonly<QueueStats> {
    return this.stats;
  }
  /** consumers in registration order (their cursors pick what each reads) */
  readonly consumers: Consumer[] = [];
  unackedCount = 0;
  /** a stream's messages are in its log, none in a journal or a memory window */
  readonly storeId = 0;
  readonly readyBytes = 0;
  readonly windowLength = 0;
  readonly windowBytes = 0;
  readonly pagedCount = 0;
  readonly deadLetterBacklog = 0;
  readonly deadLetterBacklogBytes = 0;
  readonly storesEveryMessage = false;
  /** a stream keeps what it appends (its tail cache): a consumer's ack ends nothing */
  readonly recyclesBodies = false;
  readonly globalQosAllowed = true;
  readonly log: StreamLog;
  readonly streamId: number;
  readonly cache = new StreamTailCache();
  readonly #ctx: StreamQueueContext;
  #stream: StreamSettings;
  /** active and waiting cursors, in registration order */
  readonly #cursors: StreamCursor[] = [];
  /** every cursor that may still see acks (removed ones until their deliveries are settled) */
  readonly #byConsumer = new Map<Consumer, StreamCursor>();
  /** where named consumers and single-active groups resume: `commitOffset`, `storedOffset(s)` */
  readonly offsets: StreamOffsets;
  #pumping = false;
  #again = false;
  #seq = 0;

  constructor(name: string, vhost: string, args: FieldTable, ctx: StreamQueueContext) {
    this.name = name;
    this.vhost = vhost;
    this.arguments = args;
    this.settings = settingsFrom(args);
    this.#ctx = ctx;
    this.log = ctx.log;
    this.streamId = ctx.streamId;
    this.offsets = new StreamOffsets(ctx.streams, ctx.streamId);
    this.#stream = streamSettingsFrom(args);
    this.log.setListener(this);
  }

  get type(): string {
    return STREAM_TYPE;
  }

  /** messages in the stream (what retention and compaction left) */
  get messageCount(): number {
    let n = 0;
    for (const s of this.log.segments) n += s.records;
    return n;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get streamSettings(): StreamSettings {
    return this.#stream;
  }

  // ---- appends -------------------------------------------------------------------------------

  admit(message: Message): boolean {
    // a body kept in the vhost's journal is not copied into a stream's log (it would be held whole): refused as by reject-publish
    return this.log.error === null && !this.log.closed && message.bodyRef === null && !keyTooLong(this.#stream, message);
  }

  /** Append if the stream admits it, noting the offset among the publish's durability points. */
  enqueue(message: Message, points: DurabilityPoints): boolean {
    if (!this.admit(message)) return false;
    points.noteLog(this.log, this.#write(message));
    return true;
  }

  /** Append an admitted message (the seq means nothing to a log: its offset is its place). */
  push(message: Message, _seq: number, _stored: boolean, points: DurabilityPoints): void {
    points.noteLog(this.log, this.#write(message));
  }

  reserveSeq(): number {
    return ++this.#seq;
  }

  /**
   * Append a message if the stream admits it. @returns its offset — durable once the log's
   * `committedOffset` passes it (`whenCommitted`), which is what a confirm of it waits for — or
   * -1 when refused
   */
  append(message: Message): number {
    return this.admit(message) ? this.#write(message) : -1;
  }

  #write(message: Message): number {
    message.pooled = false; // the log's write and the tail cache keep the body (src/core/body-pool.ts)
    const log = this.log;
    const offset = log.nextOffset;
    // each stored copy carries its offset, so every delivery of it does (RabbitMQ's x-stream-offset header)
    const properties: MessageProperties = { ...message.properties, headers: { ...message.properties.headers, 'x-stream-offset': offset } };
    const encoded = encodeProperties(properties);
    const s = this.#stream;
    log.append(message.exchange, message.routingKey, encoded, message.body, compactionKeyOf(s, message), compactionFlagsOf(s, message), Date.now());
    this.cache.push(offset, new Message(message.exchange, message.routingKey, properties, message.body, encoded, message.publishedAt));
    this.stats.published++;
    return offset;
  }

  // ---- StreamCommitListener --------------------------------------------------------------------

  streamCommitted(_committedOffset: number): void {
    this.dispatch();
  }

  streamCompacted(upToOffset: number): void {
    this.cache.trimBelow(upToOffset + 1);
  }

  // ---- consumers -----------------------------------------------------------------------------------

  /** basic.consume checks (RabbitMQ's texts): manual acks and a prefetch are required. */
  validateConsumer(c: Consumer): void {
    const where = `queue '${this.name}' in vhost '${this.vhost}'`;
    if (c.noAck) throw notImplemented(`automatic acknowledgement not supported by stream queues ${where}`);
    if (c.prefetch === 0) throw preconditionFailed(`consumer prefetch count is not set for '${where}'`);
    parseOffsetSpec(c.arguments['x-stream-offset'], Date.now());
    consumerNameOf(c.arguments);
  }

  addConsumer(consumer: Consumer): void {
    const args = consumer.arguments;
    const name = consumerNameOf(args);
    const group = this.#stream.singleActiveConsumer ? (name ?? '') : null;
    const cursor = new StreamCursor(this, consumer, parseOffsetSpec(args['x-stream-offset'], Date.now()), name, group);
    this.consumers.push(consumer);
    this.#cursors.push(cursor);
    this.#byConsumer.set(consumer, cursor);
    if (group === null || !this.#cursors.some((k) => k !== cursor && k.group === group)) this.#activate(cursor);
    this.dispatch();
  }

  removeConsumer(consumer: Consumer, _notify = true): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    const cursor = this.#byConsumer.get(consumer) as StreamCursor;
    this.#cursors.splice(this.#cursors.indexOf(cursor), 1);
    const wasActive = cursor.active;
    cursor.stop();
    cursor.detached = true;
    this.offsets.commit(cursor);
    if (cursor.idle) this.#byConsumer.delete(consumer);
    if (wasActive && cursor.group !== null) {
      // single active consumer: the next of the group resumes after what this one committed
      const successor = this.#cursors.find((k) => k.group === cursor.group);
      if (successor) this.#activate(successor);
    }
    if (!this.deleted && this.consumers.length > 0) this.dispatch();
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  get activeConsumer(): Consumer | undefined {
    return this.#cursors.find((c) => c.active)?.consumer;
  }

  /** a stream is never auto-delete */
  checkUnused(): void {}

  #activate(cursor: StreamCursor): void {
    cursor.start(this.offsets.resumeOf(cursor));
  }

  // ---- delivery --------------------------------------------------------------------------------------

  /** Deliver to every active cursor with credit, as far as each can go now. */
  dispatch(): void {
    if (this.deleted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (let i = 0; i < this.#cursors.length; i++) {
          const c = this.#cursors[i];
          if (c.active) this.#pump(c);
        }
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  cursorReady(cursor: StreamCursor): void {
    if (!cursor.active || this.deleted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      this.#pump(cursor);
    } finally {
      this.#pumping = false;
    }
    if (this.#again) this.dispatch();
  }

  readFailed(cursor: StreamCursor, error: Error): void {
    this.#ctx.streams.options.log?.('error', 'stream read failed', { queue: this.name, vhost: this.vhost, consumer: cursor.consumer.tag, error: error.message });
    // try again later rather than spin on a failing disk
    setTimeout(() => this.cursorReady(cursor), 1000).unref();
  }

  #pump(cursor: StreamCursor): void {
    const consumer = cursor.consumer;
    while (consumer.hasCredit()) {
      const message = cursor.next();
      if (message === null) return;
      const entry = new QueueEntry(message, cursor.nextOffset - 1, this, 0);
      entry.delivered = true;
      entry.consumer = consumer;
      consumer.unacked++;
      this.unackedCount++;
      this.stats.delivered++;
      cursor.delivered(entry);
      consumer.session.deliver(consumer, entry);
    }
  }

  // ---- settling: acks only return credit ---------------------------------------------------------------

  settle(entry: QueueEntry): void {
    this.#release(entry, true);
    this.stats.acked++;
  }

  /** basic.reject / nack without requeue: as an ack (a stream keeps every message). */
  reject(entry: QueueEntry): void {
    this.#release(entry, true);
  }

  /**
   * A delivery given back: by nack/reject with requeue (`explicit`) it counts as handled —
   * RabbitMQ streams never redeliver; by a closing channel or basic.recover it stays
   * unhandled, so a named consumer's successor gets it again.
   */
  requeue(entry: QueueEntry, explicit = false): void {
    // basic.recover on a live consumer: nothing is redelivered either, so it counts as handled
    const cursor = entry.consumer !== null ? this.#byConsumer.get(entry.consumer) : undefined;
    this.#release(entry, explicit || cursor === undefined || !cursor.detached);
  }

  restore(_entry: QueueEntry): void {}

  #release(entry: QueueEntry, processed: boolean): void {
    const consumer = entry.consumer;
    if (consumer === null) return;
    consumer.unacked--;
    this.unackedCount--;
    entry.consumer = null;
    if (!processed) entry.redelivered = true;
    const cursor = this.#byConsumer.get(consumer);
    if (cursor === undefined) return;
    if (cursor.settled()) this.offsets.commit(cursor);
    if (cursor.detached && cursor.idle) this.#byConsumer.delete(consumer);
  }

  /** Store an offset for a named consumer explicitly (stream-offsets.ts). */
  commitOffset(consumerName: string, offset: number): void {
    this.offsets.commitOffset(consumerName, offset);
  }

  storedOffset(consumerName: string): number | undefined {
    return this.offsets.storedOffset(consumerName);
  }

  storedOffsets(): Map<string, number> {
    return this.offsets.storedOffsets();
  }

  // ---- what a stream refuses ------------------------------------------------------------------------------

  take(): QueueEntry | undefined {
    throw notImplemented(`basic.get not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`);
  }

  purge(): number {
    throw notImplemented(`queue.purge not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`);
  }

  trackUnacked(_entry: QueueEntry): void {}

  readyEntries(): IterableIterator<QueueEntry> {
    return [][Symbol.iterator]();
  }

  // ---- settings and lifecycle --------------------------------------------------------------------------------

  applySettings(effectiveArgs: FieldTable, policy: string | null): void {
    this.policy = policy;
    this.#stream = streamSettingsFrom(effectiveArgs);
    this.#ctx.streams.configure(this.streamId, this.#stream.config);
  }

  /** no x-expires lease to renew */
  redeclared(): void {}

  stopTimers(): void {}

  /** Deleted: the definition goes first (recovery must not bring the stream back), then the files. */
  destroy(): void {
    this.deleted = true;
    for (const c of this.#cursors) c.stop();
    this.#cursors.length = 0;
    this.#byConsumer.clear();
    this.log.setListener(null);
    this.#ctx.meta.deleteQueue(this.vhost, this.name);
    this.#ctx.streams.delete(this.streamId).catch((e: Error) => {
      this.#ctx.streams.options.log?.('error', 'stream files not removed', { queue: this.name, error: e.message });
    });
  }
}

/** Whether `q` is a stream (asked by its type, for the callers that use a stream's own API). */
export function isStreamQueue(q: Queue): q is StreamQueue {
  return q.type === STREAM_TYPE;
}

/** Thrown where a stream-only operation meets another queue. */
export const notAStream = (name: string, vhost: string): BrokerError =>
  preconditionFailed(`queue '${name}' in vhost '${vhost}' is not a stream`);
