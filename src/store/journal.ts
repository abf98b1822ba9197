import { BrokerError } from '../core/errors.js';
import {
  MAX_SEGMENT_NUMBER,
  RECORD_HEADER_SIZE,
  RecordType,
  SEGMENT_HEADER_SIZE,
  countRuns,
  encodeRunsRecord,
  lsnOf,
  msgPrefixBound,
  sealRecord,
  writeMsgPrefix,
  type MsgFields,
} from './format.js';
import type { StoreMetrics } from './metrics.js';
import { SegmentWriter } from './segment.js';

/**
 * `fsync`: a record is durable once fdatasync returned — survives power loss (the default).
 * `write`: once the write returned — survives `kill -9` but not power loss or an OS crash;
 * what RabbitMQ classic queues, LavinMQ and NATS (by default) offer. Never call it `fsync`.
 */
export type Durability = 'fsync' | 'write';

/** Told when the record it waits for is durable, or the journal failed first. */
export interface DurableListener {
  onDurable(token: number, error: Error | null): void;
}

/** What the journal tells its owner (the file store's segment table). */
export interface JournalHooks {
  /** `segment` is complete, synced and closed: nothing more will be appended to it */
  segmentSealed(segment: number, size: number): void;
  /** the coalesced ACK records of one flush went into these segments */
  acksEncoded(segments: number[]): void;
  /** a batch became durable (`durableLsn` advanced) */
  flushed(durableLsn: number): void;
  /** a write or sync failed: the journal is read-only from now on */
  failed(error: Error): void;
}

export interface JournalOptions {
  dir: string;
  journalId: number;
  /** number of the first segment this journal creates (recovery: last on disk + 1) */
  firstSegment: number;
  segmentSize: number;
  durability: Durability;
  metrics: StoreMetrics;
  hooks: JournalHooks;
}

/** Records of one segment waiting to be written: one gather write. */
interface PendingGroup {
  segment: number;
  start: number;
  bytes: number;
  records: number;
  buffers: Buffer[];
}

const ARENA_SIZE = 256 * 1024;
const INLINE_PROPERTIES = 256;
const INLINE_BODY = 512;

interface WrittenWaiter {
  lsn: number;
  cb: (error: Error | null) => void;
}

/**
 * The message journal of one vhost: the only writer of its segment files.
 *
 * Appends are synchronous: a record is encoded into a small arena (properties and body are
 * referenced, not copied), given its LSN and queued. Everything appended while no flush runs
 * — in practice one event-loop turn, as the flush starts from `setImmediate` — goes out as one
 * gather write and one fdatasync (group commit); records appended while a flush is in flight
 * form the next batch. Waiters are released in LSN order once their record is durable.
 * Consumer acks are coalesced per queue and written as one ACK record per queue per flush.
 *
 * After a failed write or sync the journal is read-only (NATS's sticky `werr`): waiters get
 * the error, later appends throw, and the owner is told through `hooks.failed`.
 */
export class Journal {
  readonly #o: JournalOptions;
  readonly #metrics: StoreMetrics;
  #arena = Buffer.allocUnsafe(ARENA_SIZE);
  #arenaUsed = 0;

  // append position (logical: the segment file may not exist yet)
  #segment: number;
  #offset = SEGMENT_HEADER_SIZE;
  #groups: PendingGroup[] = [];
  #current: PendingGroup | null = null;
  #pendingBytes = 0;
  #acks = new Map<number, number[]>();
  #appendedLsn = 0;
  /** where the last appended record went */
  lastSegment = 0;
  lastOffset = 0;
  lastLength = 0;
  /** appends so far (records and acks): the reclaimer tells an idle journal by it not moving */
  appendCount = 0;

  // write side
  #writer: SegmentWriter | null = null;
  #flushing = false;
  #flushScheduled = false;
  #writtenLsn = 0;
  #durableLsn = 0;
  #error: Error | null = null;
  #closed = false;

  // waiters, kept sorted by LSN in parallel arrays (no object per waiter)
  #wLsn: number[] = [];
  #wListener: DurableListener[] = [];
  #wToken: number[] = [];
  #wStarted: number[] = [];
  #wHead = 0;
  #releaseScheduled = false;
  #writtenWaiters: WrittenWaiter[] = [];
  readonly #durableListeners: ((durableLsn: number) => void)[] = [];

  constructor(options: JournalOptions) {
    if (options.firstSegment < 1 || options.firstSegment > MAX_SEGMENT_NUMBER) {
      throw new RangeError(`segment number ${options.firstSegment} out of range`);
    }
    this.#o = options;
    this.#metrics = options.metrics;
    this.#segment = options.firstSegment;
    const start = lsnOf(options.firstSegment, SEGMENT_HEADER_SIZE);
    this.#appendedLsn = this.#writtenLsn = this.#durableLsn = start;
  }

  get durableLsn(): number {
    return this.#durableLsn;
  }
  get writtenLsn(): number {
    return this.#writtenLsn;
  }
  /** LSN of the end of the last record appended (durable or not) */
  get appendedLsn(): number {
    return this.#appendedLsn;
  }
  /** the segment new records go to */
  get activeSegment(): number {
    return this.#segment;
  }
  get pendingBytes(): number {
    return this.#pendingBytes;
  }
  get error(): Error | null {
    return this.#error;
  }
  get durability(): Durability {
    return this.#o.durability;
  }

  // ---- appends -----------------------------------------------------------------------------

  /** Append a MSG record. @returns its LSN; `lastSegment/lastOffset/lastLength` say where it went. */
  appendMessage(
    f: MsgFields,
    queueIds: ArrayLike<number>,
    seqs: ArrayLike<number>,
    count: number,
    properties: Buffer,
    body: Buffer,
  ): number {
    this.#checkWritable();
    // small properties (and small bodies) are copied next to the header: one checksum call and
    // one iovec instead of three is cheaper than the copy; large bodies are never copied
    const inlineProps = properties.length <= INLINE_PROPERTIES;
    const inlineBody = inlineProps && body.length <= INLINE_BODY;
    const bound =
      RECORD_HEADER_SIZE +
      msgPrefixBound(f.exchange, f.routingKey, count) +
      (inlineProps ? properties.length : 0) +
      (inlineBody ? body.length : 0);
    if (this.#arenaUsed + bound > this.#arena.length) {
      this.#arena = Buffer.allocUnsafe(Math.max(ARENA_SIZE, bound));
      this.#arenaUsed = 0;
    }
    const arena = this.#arena;
    const start = this.#arenaUsed;
    let end = writeMsgPrefix(arena, start, f, queueIds, seqs, count, properties, body);
    if (inlineProps) end += properties.copy(arena, end);
    if (inlineBody) end += body.copy(arena, end);
    this.#arenaUsed = end;
    const head = arena.subarray(start, end);
    const tail1 = inlineProps ? undefined : properties;
    const tail2 = inlineBody ? undefined : body;
    sealRecord(head, tail1, tail2);
    const group = this.#place(head.length + (inlineProps ? 0 : properties.length) + (inlineBody ? 0 : body.length));
    group.buffers.push(head);
    if (tail1 !== undefined && tail1.length > 0) group.buffers.push(tail1);
    if (tail2 !== undefined && tail2.length > 0) group.buffers.push(tail2);
    this.#metrics.msgRecords++;
    return this.#appendedLsn;
  }

  /** Append a ready-made record (header and CRC included): PURGE, QUEUE_DELETE, copies. */
  appendRecord(record: Buffer): number {
    this.#checkWritable();
    this.#place(record.length).buffers.push(record);
    this.#countRecord(record[8]);
    return this.#appendedLsn;
  }

  /** Append a record given as parts (a copy: header + payload slices of a segment read). */
  appendRecordParts(parts: Buffer[], length: number, type: number): number {
    this.#checkWritable();
    const group = this.#place(length);
    for (const p of parts) group.buffers.push(p);
    this.#countRecord(type);
    return this.#appendedLsn;
  }

  /** Note an ack; one ACK record per queue goes into the next flush. */
  appendAck(queueId: number, seq: number): void {
    this.#checkWritable();
    let seqs = this.#acks.get(queueId);
    if (!seqs) this.#acks.set(queueId, (seqs = []));
    seqs.push(seq);
    this.appendCount++;
    this.#schedule();
  }

  /** Start a new segment for the next record (idle rollover: the current one can be reclaimed). */
  rollover(): void {
    if (this.#offset === SEGMENT_HEADER_SIZE || this.#error || this.#closed) return;
    this.#nextSegment();
    this.#schedule();
  }

  // ---- durability --------------------------------------------------------------------------

  /** Call `listener.onDurable(token, …)` once the record ending at `lsn` is durable. */
  whenDurable(lsn: number, listener: DurableListener, token: number): void {
    let i = this.#wLsn.length;
    // LSNs almost always arrive in order; keep the list sorted for the rare one that does not
    while (i > this.#wHead && this.#wLsn[i - 1] > lsn) i--;
    const now = performance.now();
    if (i === this.#wLsn.length) {
      this.#wLsn.push(lsn);
      this.#wListener.push(listener);
      this.#wToken.push(token);
      this.#wStarted.push(now);
    } else {
      this.#wLsn.splice(i, 0, lsn);
      this.#wListener.splice(i, 0, listener);
      this.#wToken.splice(i, 0, token);
      this.#wStarted.splice(i, 0, now);
    }
    if (lsn <= this.#durableLsn || this.#error) this.#scheduleRelease();
  }

  /** Called with the new durable LSN after every group commit. */
  onDurable(listener: (durableLsn: number) => void): void {
    this.#durableListeners.push(listener);
  }

  /** Call `cb` once everything up to `lsn` is written (readers must not read past it). */
  whenWritten(lsn: number, cb: (error: Error | null) => void): void {
    if (this.#error) return void setImmediate(cb, this.#error);
    if (lsn <= this.#writtenLsn) return void setImmediate(cb, null);
    this.#writtenWaiters.push({ lsn, cb });
  }

  /** Resolves when everything appended so far is durable; rejects if the journal failed. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#schedule();
      this.whenDurable(this.#appendedLsn, { onDurable: (_t, e) => (e ? reject(e) : resolve()) }, 0);
    });
  }

  /** Flush, seal the active segment, refuse further appends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      while (this.#flushing) await new Promise((r) => setImmediate(r));
      const w = this.#writer;
      this.#writer = null;
      if (w) {
        await w.seal(!this.#error);
        if (!this.#error) this.#o.hooks.segmentSealed(w.number, w.size);
      }
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  #checkWritable(): void {
    if (this.#error) {
      throw new BrokerError('INTERNAL_ERROR', `INTERNAL_ERROR - message store is read-only after a write error: ${this.#error.message}`);
    }
    if (this.#closed) throw new BrokerError('INTERNAL_ERROR', 'INTERNAL_ERROR - message store is closed');
  }

  #countRecord(type: number): void {
    const m = this.#metrics;
    if (type === RecordType.MSG) m.msgRecords++;
    else if (type === RecordType.ACK) m.ackRecords++;
    else if (type === RecordType.PURGE) m.purgeRecords++;
    else if (type === RecordType.QUEUE_DELETE) m.queueDeleteRecords++;
    else m.otherRecords++;
  }

  /** Reserve `total` bytes at the append position (rolling over when the segment is full). */
  #place(total: number): PendingGroup {
    // a record larger than a segment gets a segment of its own
    if (this.#offset + total > this.#o.segmentSize && this.#offset > SEGMENT_HEADER_SIZE) this.#nextSegment();
    let group = this.#current;
    if (group === null || group.segment !== this.#segment) {
      group = { segment: this.#segment, start: this.#offset, bytes: 0, records: 0, buffers: [] };
      this.#groups.push(group);
      this.#current = group;
    }
    this.lastSegment = this.#segment;
    this.lastOffset = this.#offset;
    this.lastLength = total;
    this.#offset += total;
    group.bytes += total;
    group.records++;
    this.#pendingBytes += total;
    this.#appendedLsn = lsnOf(this.#segment, this.#offset);
    this.appendCount++;
    this.#schedule();
    return group;
  }

  #nextSegment(): void {
    if (this.#segment >= MAX_SEGMENT_NUMBER) throw new RangeError('journal segment numbers exhausted');
    this.#segment++;
    this.#offset = SEGMENT_HEADER_SIZE;
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#flushing || this.#error) return;
    this.#flushScheduled = true;
    setImmediate(this.#startFlush);
  }

  readonly #startFlush = (): void => {
    this.#flushScheduled = false;
    void this.#flushLoop();
  };

  /** Turn the coalesced acks into one ACK record per queue, at the end of the batch. */
  #encodeAcks(): void {
    if (this.#acks.size === 0) return;
    const segments: number[] = [];
    for (const [queueId, seqs] of this.#acks) {
      const runs = countRuns(seqs);
      this.appendRecord(encodeRunsRecord(RecordType.ACK, queueId, seqs, runs));
      if (segments[segments.length - 1] !== this.lastSegment) segments.push(this.lastSegment);
    }
    this.#acks.clear();
    this.#o.hooks.acksEncoded(segments);
  }

  async #flushLoop(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    const m = this.#metrics;
    try {
      while (this.#error === null && (this.#groups.length > 0 || this.#acks.size > 0 || this.#sealDue())) {
        this.#encodeAcks();
        const groups = this.#groups;
        this.#groups = [];
        this.#current = null;
        let records = 0;
        let bytes = 0;
        let endLsn = this.#writtenLsn;
        for (const g of groups) {
          const writer = await this.#writerFor(g.segment);
          await writer.writeAt(g.buffers, g.start, g.bytes);
          m.writevCalls++;
          records += g.records;
          bytes += g.bytes;
          endLsn = lsnOf(g.segment, g.start + g.bytes);
        }
        this.#pendingBytes -= bytes;
        if (groups.length > 0) {
          m.journalBytesWritten += bytes;
          m.batchRecords.record(records);
          m.batchBytes.record(bytes);
          this.#writtenLsn = endLsn;
          this.#releaseWritten();
          if (this.#o.durability === 'fsync' && this.#writer) {
            const t0 = performance.now();
            await this.#writer.datasync();
            m.fsyncs++;
            m.fsyncMicros.record((performance.now() - t0) * 1000);
          }
          m.flushes++;
          this.#durableLsn = endLsn;
          this.#release();
        }
        if (this.#sealDue()) await this.#sealWriter();
      }
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#flushing = false;
    }
  }

  /** the open file is behind the append position and nothing more is pending for it */
  #sealDue(): boolean {
    const w = this.#writer;
    return w !== null && w.number < this.#segment && (this.#groups.length === 0 || this.#groups[0].segment !== w.number);
  }

  async #writerFor(segment: number): Promise<SegmentWriter> {
    const w = this.#writer;
    if (w && w.number === segment) return w;
    if (w) await this.#sealWriter();
    const created = await SegmentWriter.create(this.#o.dir, segment, this.#o.journalId);
    this.#writer = created;
    this.#metrics.segmentsCreated++;
    return created;
  }

  async #sealWriter(): Promise<void> {
    const w = this.#writer as SegmentWriter;
    // in fsync mode the last batch was synced already; in write mode a sealed segment still
    // gets its one fdatasync, so reclaim and recovery can trust sealed files
    await w.seal(this.#o.durability === 'write');
    if (this.#o.durability === 'write') this.#metrics.fsyncs++;
    this.#writer = null;
    this.#o.hooks.segmentSealed(w.number, w.size);
  }

  #scheduleRelease(): void {
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    setImmediate(() => {
      this.#releaseScheduled = false;
      this.#release();
    });
  }

  /** Release waiters up to the durable LSN in order; after a failure, fail the rest. */
  #release(): void {
    const durable = this.#durableLsn;
    const now = performance.now();
    const commit = this.#metrics.commitMicros;
    let i = this.#wHead;
    const n = this.#wLsn.length;
    while (i < n && this.#wLsn[i] <= durable) {
      commit.record((now - this.#wStarted[i]) * 1000);
      this.#wListener[i].onDurable(this.#wToken[i], null);
      i++;
    }
    const error = this.#error;
    if (error) {
      while (i < n) {
        this.#wListener[i].onDurable(this.#wToken[i], error);
        i++;
      }
    }
    this.#wHead = i;
    if (i === this.#wLsn.length) {
      this.#wLsn.length = this.#wListener.length = this.#wToken.length = this.#wStarted.length = 0;
      this.#wHead = 0;
    } else if (i > 4096 && i * 2 > this.#wLsn.length) {
      this.#wLsn.splice(0, i);
      this.#wListener.splice(0, i);
      this.#wToken.splice(0, i);
      this.#wStarted.splice(0, i);
      this.#wHead = 0;
    }
    if (!error) for (const l of this.#durableListeners) l(durable);
    if (!error) this.#o.hooks.flushed(durable);
  }

  #releaseWritten(): void {
    if (this.#writtenWaiters.length === 0) return;
    const written = this.#writtenLsn;
    const keep: WrittenWaiter[] = [];
    for (const w of this.#writtenWaiters) {
      if (w.lsn <= written) w.cb(null);
      else keep.push(w);
    }
    this.#writtenWaiters = keep;
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#metrics.writeErrors++;
    this.#release();
    const waiting = this.#writtenWaiters;
    this.#writtenWaiters = [];
    for (const w of waiting) w.cb(error);
    this.#o.hooks.failed(error);
  }
}
