import { encodeProperties } from '../../../codec/basic-properties.js';
import type { FieldTable, MessageProperties } from '../../../codec/types.js';
import type { MetadataStore } from '../../../store/metadata/metadata-store.js';
import { FLAG_KEY_IS_ROUTING_KEY, FLAG_TOMBSTONE, MAX_FIELD_LENGTH } from '../../../store/stream/stream-format.js';
import type { StreamCommitListener, StreamLog } from '../../../store/stream/stream-log.js';
import type { StreamStore } from '../../../store/stream/stream-store.js';
import type { Consumer } from '../../delivery/consumer.js';
import { BrokerError, notImplemented, preconditionFailed } from '../../errors.js';
import { Message } from '../../message.js';
import { Queue, type QueueLifecycle } from '../classic/classic-queue.js';
import { QueueEntry } from '../queue-entry.js';
import { consumerNameOf, parseOffsetSpec, streamSettingsFrom, STREAM_TYPE, type StreamSettings } from './stream-arguments.js';
import { StreamCursor, type CursorOwner } from './stream-cursor.js';
import { StreamTailCache } from './stream-tail-cache.js';
import type { DurabilityPoints } from '../../durability.js';

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
 * It is a `Queue` to the rest of the core (routing, bindings, sessions, policies), overriding
 * what a log does differently: enqueue appends, dispatch walks cursors, settle returns credit,
 * basic.get and queue.purge are refused (540, as RabbitMQ).
 */
export class StreamQueue extends Queue implements StreamCommitListener, CursorOwner {
  readonly log: StreamLog;
  readonly streamId: number;
  readonly cache = new StreamTailCache();
  readonly #ctx: StreamQueueContext;
  #stream: StreamSettings;
  /** active and waiting cursors, in registration order */
  readonly #cursors: StreamCursor[] = [];
  /** every cursor that may still see acks (removed ones until their deliveries are settled) */
  readonly #byConsumer = new Map<Consumer, StreamCursor>();
  /** committed offsets of unnamed single-active groups (named ones are in the stream store) */
  #groupOffsets = new Map<string, number>();
  #pumping = false;
  #again = false;

  constructor(name: string, vhost: string, args: FieldTable, lifecycle: QueueLifecycle, ctx: StreamQueueContext) {
    super(name, vhost, { durable: true, autoDelete: false, arguments: args, maxPriority: 0, ownerId: 0 }, lifecycle);
    this.#ctx = ctx;
    this.log = ctx.log;
    this.streamId = ctx.streamId;
    this.#stream = streamSettingsFrom(args);
    this.log.setListener(this);
  }

  get type(): string {
    return STREAM_TYPE;
  }

  /** messages in the stream (what retention and compaction left) */
  override get messageCount(): number {
    let n = 0;
    for (const s of this.log.segments) n += s.records;
    return n;
  }

  override get windowLength(): number {
    return 0;
  }

  get streamSettings(): StreamSettings {
    return this.#stream;
  }

  // ---- appends -------------------------------------------------------------------------------

  override admit(message: Message): boolean {
    return this.log.error === null && !this.log.closed && !this.#keyTooLong(message);
  }

  /** A key the record format cannot hold (u16 length) is refused like a full queue (a nack), not stored cut. */
  #keyTooLong(message: Message): boolean {
    if (this.#stream.config.compaction === null || this.#stream.keyHeader === null) return false;
    const key = keyValue(message.properties.headers?.[this.#stream.keyHeader]);
    if (key === null) return false;
    return (typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.length) > MAX_FIELD_LENGTH;
  }

  override enqueue(message: Message): boolean {
    return this.append(message) >= 0;
  }

  override push(message: Message, _seq: number, _stored: boolean): void {
    this.append(message);
  }

  /** Append, noting the offset among a publish's durability points. @returns false when refused */
  appendNoting(message: Message, points: DurabilityPoints): boolean {
    const offset = this.append(message);
    if (offset >= 0) points.noteLog(this.log, offset);
    return offset >= 0;
  }

  /**
   * Append a message if the stream admits it. @returns its offset — durable once the log's
   * `committedOffset` passes it (`whenCommitted`), which is what a confirm of it waits for — or
   * -1 when refused
   */
  append(message: Message): number {
    if (!this.admit(message)) return -1;
    const log = this.log;
    const offset = log.nextOffset;
    // each stored copy carries its offset, so every delivery of it does (RabbitMQ's x-stream-offset header)
    const properties: MessageProperties = { ...message.properties, headers: { ...message.properties.headers, 'x-stream-offset': offset } };
    const encoded = encodeProperties(properties);
    let key: Buffer | null = null;
    let flags = 0;
    const c = this.#stream.config.compaction;
    if (c !== null) {
      if (this.#stream.keyHeader !== null) key = keyBytes(message.properties.headers?.[this.#stream.keyHeader]);
      // a message without the key header has no key: compaction keeps it
      if (message.body.length === 0) flags |= FLAG_TOMBSTONE;
    }
    const keyIsRoutingKey = c !== null && this.#stream.keyHeader === null;
    log.append(message.exchange, message.routingKey, encoded, message.body, key, flags | (keyIsRoutingKey ? FLAG_KEY_IS_ROUTING_KEY : 0), Date.now());
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

  override addConsumer(consumer: Consumer): void {
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

  override removeConsumer(consumer: Consumer, _notify = true): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    const cursor = this.#byConsumer.get(consumer) as StreamCursor;
    this.#cursors.splice(this.#cursors.indexOf(cursor), 1);
    const wasActive = cursor.active;
    cursor.stop();
    cursor.detached = true;
    this.#commit(cursor);
    if (cursor.idle) this.#byConsumer.delete(consumer);
    if (wasActive && cursor.group !== null) {
      // single active consumer: the next of the group resumes after what this one committed
      const successor = this.#cursors.find((k) => k.group === cursor.group);
      if (successor) this.#activate(successor);
    }
    if (!this.deleted && this.consumers.length > 0) this.dispatch();
  }

  override hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  override get activeConsumer(): Consumer | undefined {
    return this.#cursors.find((c) => c.active)?.consumer;
  }

  override checkUnused(): void {}

  #activate(cursor: StreamCursor): void {
    let stored: number | undefined;
    if (cursor.name !== null) stored = this.#ctx.streams.storedOffset(this.streamId, cursor.name);
    else if (cursor.group !== null) stored = this.#groupOffsets.get(cursor.group);
    cursor.start(stored);
  }

  // ---- delivery --------------------------------------------------------------------------------------

  /** Deliver to every active cursor with credit, as far as each can go now. */
  override dispatch(): void {
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

  override settle(entry: QueueEntry): void {
    this.#release(entry, true);
    this.stats.acked++;
  }

  /** basic.reject / nack without requeue: as an ack (a stream keeps every message). */
  override reject(entry: QueueEntry): void {
    this.#release(entry, true);
  }

  /**
   * A delivery given back: by nack/reject with requeue (`explicit`) it counts as handled —
   * RabbitMQ streams never redeliver; by a closing channel or basic.recover it stays
   * unhandled, so a named consumer's successor gets it again.
   */
  override requeue(entry: QueueEntry, explicit = false): void {
    // basic.recover on a live consumer: nothing is redelivered either, so it counts as handled
    const cursor = entry.consumer !== null ? this.#byConsumer.get(entry.consumer) : undefined;
    this.#release(entry, explicit || cursor === undefined || !cursor.detached);
  }

  override restore(_entry: QueueEntry): void {}

  #release(entry: QueueEntry, processed: boolean): void {
    const consumer = entry.consumer;
    if (consumer === null) return;
    consumer.unacked--;
    this.unackedCount--;
    entry.consumer = null;
    if (!processed) entry.redelivered = true;
    const cursor = this.#byConsumer.get(consumer);
    if (cursor === undefined) return;
    if (cursor.settled()) this.#commit(cursor);
    if (cursor.detached && cursor.idle) this.#byConsumer.delete(consumer);
  }

  /** Commit a named (or grouped) cursor's offset: in memory now, in SQLite with the next flush. */
  #commit(cursor: StreamCursor): void {
    if (cursor.committed < 0) return;
    if (cursor.name !== null) this.#ctx.streams.commitOffset(this.streamId, cursor.name, cursor.committed);
    else if (cursor.group !== null && cursor.committed > (this.#groupOffsets.get(cursor.group) ?? -1)) {
      this.#groupOffsets.set(cursor.group, cursor.committed);
    }
  }

  /**
   * Store an offset for a named consumer explicitly (beyond RabbitMQ's AMQP side; front-ends
   * and embedders use it, acks do it for consumers that name themselves).
   */
  commitOffset(consumerName: string, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) throw preconditionFailed(`invalid offset ${offset}`);
    this.#ctx.streams.commitOffset(this.streamId, consumerName, offset);
  }

  storedOffset(consumerName: string): number | undefined {
    return this.#ctx.streams.storedOffset(this.streamId, consumerName);
  }

  /** consumer name → stored offset, for every named consumer (and Kafka group) of the stream */
  storedOffsets(): Map<string, number> {
    return this.#ctx.streams.storedOffsets(this.streamId);
  }

  // ---- what a stream refuses ------------------------------------------------------------------------------

  override take(): QueueEntry | undefined {
    throw notImplemented(`basic.get not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`);
  }

  override purge(): number {
    throw notImplemented(`queue.purge not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`);
  }

  override trackUnacked(_entry: QueueEntry): void {}

  override readyEntries(): IterableIterator<QueueEntry> {
    return [][Symbol.iterator]();
  }

  // ---- settings and lifecycle --------------------------------------------------------------------------------

  override applySettings(effectiveArgs: FieldTable, policy: string | null): void {
    this.policy = policy;
    this.#stream = streamSettingsFrom(effectiveArgs);
    this.#ctx.streams.configure(this.streamId, this.#stream.config);
  }

  override touch(): void {}

  override stopTimers(): void {}

  /** Deleted: the definition goes first (recovery must not bring the stream back), then the files. */
  override destroy(): void {
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

/** A compaction key from a header value (strings as UTF-8, numbers in decimal, bytes as they are). */
function keyBytes(v: unknown): Buffer | null {
  const key = keyValue(v);
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** The key a header value stands for, before encoding: null when there is none (absent or empty). */
function keyValue(v: unknown): Buffer | string | null {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v.length > 0 ? v : null;
  const s = typeof v === 'object' && 'value' in (v as object) ? String((v as { value: unknown }).value) : String(v);
  return s === '' ? null : s;
}

/** Thrown where a stream-only operation meets another queue. */
export const notAStream = (name: string, vhost: string): BrokerError =>
  preconditionFailed(`queue '${name}' in vhost '${vhost}' is not a stream`);

/** Enqueue a routed message; a stream's append becomes one of the publish's durability points. */
export function enqueueNoting(q: Queue, message: Message, points: DurabilityPoints): boolean {
  return q instanceof StreamQueue ? q.appendNoting(message, points) : q.enqueue(message);
}
