import { DurableWaiters, type DurableListener } from '../durable-waiters.js';
import { RECORD_HEADER_SIZE } from '../format.js';
import { RecordArena } from '../log/record-arena.js';
import type { Disk } from '../disk/disk.js';
import { realDisk } from '../disk/real-disk.js';
import { LogHistogram } from '../metrics.js';
import { FLAG_CHUNK_START, SEGMENT_HEADER_SIZE, streamPrefixBound, writeStreamPrefix, type StreamRecordFields } from './stream-format.js';
import { StreamSegment } from './stream-segment.js';
import { isNotReplicated, streamLogId } from '../log/append-observer.js';
import { GroupCommit, type LogUser } from '../log/group-commit.js';
import { positionForOffset, positionForTimestamp, type StreamPosition } from './stream-seek.js';
import { selectRetention, type RetentionLimits } from './retention.js';
import { newStreamMetrics, type StreamMetrics } from './stream-metrics.js';
import type { StreamRecoveryReport } from './stream-recovery.js';
import type { StreamCommitListener, StreamLogOptions } from './stream-log-options.js';

export type { StreamCommitListener, StreamLogOptions };

interface PendingGroup {
  segment: StreamSegment;
  start: number;
  bytes: number;
  buffers: Buffer[];
  lastOffset: number;
}

/**
 * The log of one stream: its segments, the only writer of its files, and the committed end
 * readers may read up to; one user of the log engine (log/group-commit.ts), with its own
 * record layout (stream-format.ts).
 *
 * Appends are synchronous and return the record's offset; the engine writes what was appended
 * in a turn as one gather write and one fdatasync (group commit, as the journal), after
 * which `committedOffset` moves, publisher-confirm waiters are released in offset order and
 * the listener (the stream queue) dispatches. The first record of each flush is flagged
 * CHUNK_START (`x-stream-offset: last`). A segment full at `maxSegmentSize` is sealed
 * (synced, index files written) and a new one begins at the next offset; retention drops
 * whole sealed segments, oldest first, never the active one.
 */
export class StreamLog {
  readonly options: StreamLogOptions;
  readonly disk: Disk;
  readonly metrics: StreamMetrics = newStreamMetrics();
  /** the newest offset a compaction run covered (the dirty part starts after it) */
  cleanedUpTo = -1;
  /** what opening the log found (null for a new stream) */
  recovery: StreamRecoveryReport | null = null;
  /** oldest first; the last one is the active (appended-to) segment */
  segments: StreamSegment[];
  #nextOffset: number;
  #committedOffset: number;
  #lastTimestamp = 0;
  #lastChunk: number;
  readonly #arena = new RecordArena();
  #groups: PendingGroup[] = [];
  #chunkStarted = false;
  readonly #engine: GroupCommit<StreamSegment, PendingGroup>;
  #error: Error | null = null;
  #closed = false;
  readonly #waiters = new DurableWaiters(new LogHistogram());
  #listener: StreamCommitListener | null = null;
  #onSealed: ((log: StreamLog) => void) | null = null;

  constructor(options: StreamLogOptions, segments: StreamSegment[], nextOffset: number) {
    this.options = options;
    this.disk = options.disk ?? realDisk;
    this.#nextOffset = this.#committedOffset = nextOffset;
    this.#lastChunk = nextOffset;
    for (const s of segments) {
      if (s.lastTimestamp > this.#lastTimestamp) this.#lastTimestamp = s.lastTimestamp;
      if (s.lastChunkStart >= 0) this.#lastChunk = s.lastChunkStart;
    }
    // every start appends to a new segment, never after a possibly torn tail (STORE.md §3.3)
    this.segments = [...segments, new StreamSegment(this.disk, options.dir, nextOffset)];
    const engine = { disk: this.disk, durability: options.durability, counters: this.metrics, logId: streamLogId(options.queueId), observer: options.appendObserver };
    this.#engine = new GroupCommit(this.#logUser(), engine);
  }

  get nextOffset(): number {
    return this.#nextOffset;
  }
  /** records with a lower offset are durable and readable */
  get committedOffset(): number {
    return this.#committedOffset;
  }
  /** the oldest offset still in the log (retention and compaction move it) */
  get firstOffset(): number {
    for (const s of this.segments) if (s.records > 0) return s.firstOffset;
    return this.#nextOffset;
  }
  /** the first offset of the last committed group commit (`x-stream-offset: last`), or the committed end */
  get lastChunkStart(): number {
    return this.#lastChunk;
  }
  get active(): StreamSegment {
    return this.segments[this.segments.length - 1];
  }
  get error(): Error | null {
    return this.#error;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** bytes in all segments (retention compares it with x-max-length-bytes) */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  setListener(listener: StreamCommitListener | null): void {
    this.#listener = listener;
  }

  /** Called when a segment was sealed (the store runs retention and maybe the cleaner). */
  onSealed(cb: (log: StreamLog) => void): void {
    this.#onSealed = cb;
  }

  // ---- appends -------------------------------------------------------------------------------

  /**
   * Append one message. `properties` and `body` are referenced until written, not copied
   * (large ones), so they must not change. @returns its offset (= `nextOffset` before the call)
   */
  append(exchange: string, routingKey: string, properties: Buffer, body: Buffer, key: Buffer | null, flags: number, now: number): number {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Error('stream log is closed');
    const offset = this.#nextOffset;
    // timestamps never go back inside a stream: the time index relies on it
    const timestamp = now > this.#lastTimestamp ? now : this.#lastTimestamp;
    if (!this.#chunkStarted) flags |= FLAG_CHUNK_START;
    const f: StreamRecordFields = { offset, timestamp, flags, key, exchange, routingKey };
    const a = this.#arena;
    const buf = a.begin(streamPrefixBound(f), properties, body);
    // throws on a name too long for the format: nothing above has changed the log yet
    const end = writeStreamPrefix(buf, a.start, f, properties.length, body.length);
    this.#nextOffset = offset + 1;
    this.#lastTimestamp = timestamp;
    this.#chunkStarted = true;
    const length = a.finish(end, properties, body);
    const group = this.#place(length, offset);
    a.pushTo(group.buffers);
    group.segment.noteRecord(offset, group.start + group.bytes - length, length, timestamp, (flags & FLAG_CHUNK_START) !== 0);
    this.metrics.records++;
    this.metrics.userBytes += body.length;
    this.#schedule();
    return offset;
  }

  /** `listener.onDurable(token, …)` once the record at `offset` is committed (in offset order). */
  whenCommitted(offset: number, listener: DurableListener, token: number): void {
    this.#waiters.add(offset, listener, token);
    if (offset < this.#committedOffset || this.#error || this.#closed) setImmediate(() => this.#release());
  }

  /** Resolves once everything appended so far is committed. */
  flush(): Promise<void> {
    if (this.#nextOffset === this.#committedOffset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // a replication refusal is durable here: only a write failure fails the flush
      this.whenCommitted(this.#nextOffset - 1, { onDurable: (_t, e) => (e && !isNotReplicated(e) ? reject(e) : resolve()) }, 0);
    });
  }

  /** Start a new segment at the next offset (size or age rollover); no-op when the active one is empty. */
  rollover(): void {
    const active = this.active;
    if (active.records === 0 || this.#closed) return;
    this.segments.push(new StreamSegment(this.disk, this.options.dir, this.#nextOffset));
    this.#schedule();
  }

  // ---- reading -------------------------------------------------------------------------------------

  /** Where a reader wanting `offset` starts scanning (it skips the records before `offset`). */
  positionFor(offset: number): StreamPosition {
    return positionForOffset(this.segments, offset);
  }

  /** Where a reader wanting the first record at or after `timestamp` (ms) starts scanning. */
  positionForTimestamp(timestamp: number): StreamPosition {
    return positionForTimestamp(this.segments, timestamp);
  }

  /** The segment after `segment` (a reader at its end moves on), or null. */
  segmentAfter(segment: StreamSegment): StreamSegment | null {
    const i = this.segments.indexOf(segment);
    return i >= 0 && i + 1 < this.segments.length ? this.segments[i + 1] : null;
  }

  // ---- retention ------------------------------------------------------------------------------------

  /**
   * Drop whole sealed segments, oldest first, while the stream is over `maxBytes` or their
   * newest record is older than `maxAgeMs` (STORE.md §3.7). Never the active segment.
   * @returns the segments removed
   */
  async applyRetention(limits: RetentionLimits, now: number): Promise<number> {
    const drop = selectRetention(this.segments, limits, now);
    if (drop === 0 || this.#closed) return 0;
    const removed = this.segments.slice(0, drop);
    this.segments = this.segments.slice(drop);
    let bytes = 0;
    for (const s of removed) {
      s.removed = true;
      bytes += s.size;
    }
    for (const s of removed) await s.unlinkFiles();
    this.metrics.retentionSegmentsDeleted += removed.length;
    this.metrics.retentionBytesDeleted += bytes;
    this.options.log?.('info', 'stream retention removed segments', { queueId: this.options.queueId, segments: removed.length, bytes });
    return removed.length;
  }

  /** Replace `inputs` (consecutive sealed segments) by `output` (a compaction swap; see cleaner.ts). */
  replaceSegments(inputs: StreamSegment[], output: StreamSegment | null): void {
    const i = this.segments.indexOf(inputs[0]);
    if (i < 0) throw new Error('compaction inputs are no longer in the log');
    for (const s of inputs) s.removed = true;
    this.segments.splice(i, inputs.length, ...(output ? [output] : []));
    this.#listener?.streamCompacted(inputs[inputs.length - 1].lastOffset);
  }

  // ---- closing -----------------------------------------------------------------------------------------

  /** Flush, seal the active segment (with its index files, so a clean restart needs no scan), refuse appends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      const last = await this.#engine.closeAfter(this.flush(), () => (this.#closed = true), () => !this.#error);
      if (last) {
        last.segment.sealed = true;
        if (!this.#error) await last.segment.writeIndexFiles();
      }
    } finally {
      this.#release();
    }
  }

  /** The stream was deleted: stop, release waiters, remove its directory. */
  async destroy(): Promise<void> {
    this.#closed = true;
    for (const s of this.segments) s.removed = true;
    await this.#engine.stop(false).catch(() => undefined);
    this.#groups = [];
    this.#release();
    await this.disk.rm(this.options.dir);
  }

  // ---- internals -------------------------------------------------------------------------------------

  /** Reserve `length` bytes at the append position, rolling over to a new segment when full. */
  #place(length: number, offset: number): PendingGroup {
    let segment = this.active;
    // a record larger than a segment gets a segment of its own
    if (segment.size + length > this.options.maxSegmentSize && segment.records > 0) {
      segment = new StreamSegment(this.disk, this.options.dir, offset);
      this.segments.push(segment);
    }
    let group = this.#groups.length > 0 ? this.#groups[this.#groups.length - 1] : undefined;
    if (group === undefined || group.segment !== segment) {
      group = { segment, start: segment.size, bytes: 0, buffers: [], lastOffset: offset };
      this.#groups.push(group);
    }
    group.bytes += length;
    group.lastOffset = offset;
    return group;
  }

  #schedule(): void {
    this.#engine.schedule();
  }

  /** The stream log as the engine sees it: segments are the segment objects, records placed by `#place`. */
  #logUser(): LogUser<StreamSegment, PendingGroup> {
    return {
      writable: () => !this.#closed,
      hasPending: () => this.#groups.length > 0,
      appendSegment: () => this.active,
      firstPendingSegment: () => (this.#groups.length > 0 ? this.#groups[0].segment : null),
      take: () => {
        const groups = this.#groups;
        this.#groups = [];
        this.#chunkStarted = false;
        return groups;
      },
      // the first segment this log creates makes its directory's name durable too
      fileFor: (segment) => segment.fileSpec(this.options.queueId, this.metrics.segmentsCreated === 0),
      written: (groups) => {
        for (const g of groups) this.metrics.bytesWritten += g.bytes;
      },
      committed: (groups, refusal) => {
        for (const g of groups) g.segment.readableEnd = g.start + g.bytes;
        // the round began where the previous one was committed (with replication the next
        // round may have been taken already: this is not the committed end at the last take)
        this.#lastChunk = this.#committedOffset;
        this.#committedOffset = groups[groups.length - 1].lastOffset + 1;
        this.#release(refusal ?? null);
        this.#listener?.streamCommitted(this.#committedOffset);
      },
      sealed: async (s) => {
        s.readableEnd = s.size;
        s.sealed = true;
        await s.writeIndexFiles();
        this.#onSealed?.(this);
      },
      failed: (error) => this.#fail(error),
    };
  }

  #release(refusal: Error | null = null): void {
    const error = this.#error;
    this.#waiters.release(this.#committedOffset - 1, error, refusal);
    if (this.#closed && !error) this.#waiters.release(Number.MAX_SAFE_INTEGER, null);
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.options.log?.('error', 'stream write failed: the stream is read-only', { queueId: this.options.queueId, error: error.message });
    this.#release();
    this.options.onFailure?.(error);
  }
}

export { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE };
