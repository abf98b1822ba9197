import { BrokerError } from '../core/errors.js';
import { MAX_SEGMENT_NUMBER, SEGMENT_HEADER_SIZE, lsnOf, type MsgFields } from './format.js';
import { DurableWaiters, type DurableListener } from './durable-waiters.js';
import type { StoreMetrics } from './metrics.js';
import { PendingBatch, type PendingGroup } from './pending-batch.js';
import { join } from 'node:path';
import type { Disk } from './disk/disk.js';
import { SEGMENT_MAGIC, segmentFileName } from './format.js';
import { isNotReplicated, journalLogId, type AppendObserver } from './log/append-observer.js';
import { GroupCommit, type Durability, type LogUser } from './log/group-commit.js';
import type { DirectorySync } from './directory-sync.js';

export type { Durability };

export type { DurableListener };

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
  disk: Disk;
  dir: string;
  journalId: number;
  /** number of the first segment this journal creates (recovery: last on disk + 1) */
  firstSegment: number;
  segmentSize: number;
  /** bytes a group-commit round writes at most (store-options.ts `roundBytes`) */
  roundBytes: number;
  /** MSG records at least this long may be left out when consumed before their round (elision.ts) */
  elideMinBytes?: number;
  /** the longest record a reader accepts (a HOLE spanning several left-out records stays below it) */
  maxRecordSize?: number;
  /** how long a round may wait for consumers' acks while they keep up (elision.ts; default 0) */
  elideWindowMs?: number;
  durability: Durability;
  metrics: StoreMetrics;
  hooks: JournalHooks;
  /** sees every write and durability point (append-observer.ts) */
  appendObserver?: AppendObserver | null;
  /** `dir`'s fsync, shared with reclaim (directory-sync.ts); without it each creation syncs on its own */
  directory?: DirectorySync | null;
}

interface WrittenWaiter {
  lsn: number;
  cb: (error: Error | null) => void;
}

/**
 * The message journal of one vhost: the only writer of its segment files, one user of the log
 * engine (log/group-commit.ts) with its own record layouts (format.ts).
 *
 * Appends are synchronous: a record is encoded into a small arena (properties and body are
 * referenced, not copied), given its LSN and queued (pending-batch.ts). The engine writes what
 * was appended in a turn as one gather write and one fdatasync (group commit). Waiters are
 * released in LSN order once their record is durable. Consumer acks are coalesced per queue
 * and written as one ACK record per queue per flush.
 *
 * After a failed write or sync the journal is read-only (NATS's sticky `werr`): waiters get
 * the error, later appends throw, and the owner is told through `hooks.failed`.
 */
export class Journal {
  readonly #o: JournalOptions;
  readonly #metrics: StoreMetrics;
  readonly #batch: PendingBatch;
  readonly #engine: GroupCommit<number, PendingGroup>;

  #writtenLsn = 0;
  #durableLsn = 0;
  #error: Error | null = null;
  #closed = false;

  readonly #waiters: DurableWaiters;
  #releaseScheduled = false;
  #writtenWaiters: WrittenWaiter[] = [];
  readonly #durableListeners: ((durableLsn: number) => void)[] = [];

  constructor(options: JournalOptions) {
    if (options.firstSegment < 1 || options.firstSegment > MAX_SEGMENT_NUMBER) {
      throw new RangeError(`segment number ${options.firstSegment} out of range`);
    }
    this.#o = options;
    this.#metrics = options.metrics;
    this.#waiters = new DurableWaiters(options.metrics.commitMicros);
    this.#batch = new PendingBatch(options.firstSegment, options.segmentSize, options.roundBytes, options.metrics, options.elideMinBytes, options.maxRecordSize);
    const { disk, durability, appendObserver } = options;
    const log = { disk, durability, counters: options.metrics, fsyncMicros: options.metrics.fsyncMicros, logId: journalLogId(options.journalId), observer: appendObserver };
    this.#engine = new GroupCommit(this.#logUser(), log);
    this.#writtenLsn = this.#durableLsn = lsnOf(options.firstSegment, SEGMENT_HEADER_SIZE);
  }

  get durableLsn(): number {
    return this.#durableLsn;
  }
  get writtenLsn(): number {
    return this.#writtenLsn;
  }
  /** LSN of the end of the last record appended (durable or not) */
  get appendedLsn(): number {
    return this.#batch.appendedLsn;
  }
  /** the segment new records go to */
  get activeSegment(): number {
    return this.#batch.segment;
  }
  get pendingBytes(): number {
    return this.#batch.bytes;
  }
  /** where the last appended record went */
  get lastSegment(): number {
    return this.#batch.lastSegment;
  }
  get lastOffset(): number {
    return this.#batch.lastOffset;
  }
  get lastLength(): number {
    return this.#batch.lastLength;
  }
  /** appends so far (records and acks): the reclaimer tells an idle journal by it not moving */
  get appendCount(): number {
    return this.#batch.appendCount;
  }
  get error(): Error | null {
    return this.#error;
  }
  get durability(): Durability {
    return this.#o.durability;
  }

  // ---- appends -----------------------------------------------------------------------------

  /** Append a MSG record. @returns its LSN; `lastSegment/lastOffset/lastLength` say where it went. */
  appendMessage(f: MsgFields, queueIds: ArrayLike<number>, seqs: ArrayLike<number>, count: number, properties: Buffer, body: Buffer): number {
    this.#checkWritable();
    this.#batch.addMessage(f, queueIds, seqs, count, properties, body);
    this.#schedule();
    return this.#batch.appendedLsn;
  }

  /** Append a ready-made record (header and CRC included): PURGE, QUEUE_DELETE. */
  appendRecord(record: Buffer): number {
    return this.appendRecordParts([record], record.length, record[8]);
  }

  /** Append a record given as parts (a copy: slices of a segment read). */
  appendRecordParts(parts: Buffer[], length: number, type: number): number {
    this.#checkWritable();
    this.#batch.addRecord(parts, length, type);
    this.#schedule();
    return this.#batch.appendedLsn;
  }

  /**
   * Note an ack; one ACK record per queue goes into the next flush. A consumer's (`consumed`)
   * does not make its round synced; any other removal (expiry, dead-lettering, a drop) does.
   */
  appendAck(queueId: number, seq: number, consumed = false): void {
    this.#checkWritable();
    this.#batch.addAck(queueId, seq, consumed);
    this.#schedule();
  }

  /**
   * A queue copy of the MSG record at (`segment`, `offset`) left its queue — acknowledged by a
   * consumer when `consumed`: a record not yet written whose every copy was is left out (elision.ts).
   */
  settle(segment: number, offset: number, consumed: boolean): void {
    this.#batch.elision.settle(segment, offset, consumed);
  }

  /** Start a new segment for the next record (idle rollover: the current one can be reclaimed). */
  rollover(): void {
    if (this.#error || this.#closed) return;
    if (this.#batch.rollover()) this.#schedule();
  }

  // ---- durability --------------------------------------------------------------------------

  /** Call `listener.onDurable(token, …)` once the record ending at `lsn` is durable. */
  whenDurable(lsn: number, listener: DurableListener, token: number): void {
    this.#waiters.add(lsn, listener, token);
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

  /** Resolves when everything appended so far, acks included, is durable; rejects if the journal failed. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      // pending acks become ACK records now, so the LSN waited for covers them (they are
      // otherwise encoded by the next flush: a flush() with nothing else pending resolved
      // at once and a clean close could stop before writing them)
      if (this.#error === null && !this.#closed) this.#encodeAcks();
      // a round of only HOLEs and ACK records is not synced (mustSync): this one is
      this.#batch.requireSync();
      this.#schedule();
      // a replication refusal is durable here: only a write failure fails the flush; a refused
      // round may be one written without its sync, so a refusal still waits for syncWritten
      const durable = (_t: number, e: Error | null): void => {
        if (e !== null && !isNotReplicated(e)) reject(e);
        else if (this.#o.durability === 'write') resolve();
        else this.#engine.syncWritten().then(resolve, reject);
      };
      this.whenDurable(this.#batch.appendedLsn, { onDurable: durable }, 0);
    });
  }

  /** Flush, seal the active segment, refuse further appends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const last = await this.#engine.closeAfter(this.flush(), () => (this.#closed = true), () => !this.#error);
    if (last && !this.#error) this.#o.hooks.segmentSealed(last.writer.number, last.writer.size);
  }

  // ---- internals -------------------------------------------------------------------------------

  #encodeAcks(): void {
    const ackSegments = this.#batch.encodeAcks();
    if (ackSegments.length > 0) this.#o.hooks.acksEncoded(ackSegments);
  }

  #checkWritable(): void {
    if (this.#error) {
      throw new BrokerError('INTERNAL_ERROR', `INTERNAL_ERROR - message store is read-only after a write error: ${this.#error.message}`);
    }
    if (this.#closed) throw new BrokerError('INTERNAL_ERROR', 'INTERNAL_ERROR - message store is closed');
  }

  #schedule(): void {
    this.#engine.schedule();
  }

  /** The journal as the engine sees it: segments by number, records placed by the batch. */
  #logUser(): LogUser<number, PendingGroup> {
    const batch = this.#batch;
    const o = this.#o;
    const metrics = this.#metrics;
    return {
      writable: () => true,
      hasPending: () => !batch.empty,
      // acks that arrived meanwhile are read before the next round is taken; while consumers
      // keep up, a round waits until its oldest record is elideWindowMs old and leaves younger
      // ones for the next (elision.ts, pending-batch.ts take)
      delayBeforeTake: () => batch.elision.delayBeforeTake(o.elideWindowMs ?? 0),
      appendSegment: () => batch.segment,
      firstPendingSegment: () => (batch.firstSegment < 0 ? null : batch.firstSegment),
      take: () => {
        this.#encodeAcks();
        const groups = batch.take(o.elideWindowMs ?? 0);
        batch.elision.decide(groups);
        return groups;
      },
      mustSync: (groups) => groups.some((g) => g.mustSync),
      fileFor: (segment) => ({ path: join(o.dir, segmentFileName(segment)), number: segment, ownerId: o.journalId, magic: SEGMENT_MAGIC, syncDirs: [o.dir], directory: o.directory }),
      written: (groups) => {
        let records = 0;
        let bytes = 0;
        let elided = 0;
        for (const g of groups) {
          records += g.records;
          bytes += g.bytes;
          elided += g.elidedBytes;
        }
        const last = groups[groups.length - 1];
        batch.bytes -= bytes;
        metrics.journalBytesWritten += bytes - elided;
        metrics.batchRecords.record(records);
        metrics.batchBytes.record(bytes);
        this.#writtenLsn = lsnOf(last.segment, last.start + last.bytes);
        this.#releaseWritten();
      },
      committed: (groups, refusal) => {
        // the round's end, not writtenLsn: with replication the next round may be written already
        const last = groups[groups.length - 1];
        this.#durableLsn = lsnOf(last.segment, last.start + last.bytes);
        this.#release(refusal ?? null);
      },
      sealed: (_segment, w) => o.hooks.segmentSealed(w.number, w.size),
      failed: (error) => this.#fail(error),
    };
  }

  #scheduleRelease(): void {
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    setImmediate(() => {
      this.#releaseScheduled = false;
      this.#release();
    });
  }

  /** Release waiters up to the durable LSN in order (with `refusal`: a negative confirm); after a failure, fail the rest. */
  #release(refusal: Error | null = null): void {
    const error = this.#error;
    this.#waiters.release(this.#durableLsn, error, refusal);
    if (error) return;
    for (const l of this.#durableListeners) l(this.#durableLsn);
    this.#o.hooks.flushed(this.#durableLsn);
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
    this.#release();
    const waiting = this.#writtenWaiters;
    this.#writtenWaiters = [];
    for (const w of waiting) w.cb(error);
    this.#o.hooks.failed(error);
  }
}
