import { join } from 'node:path';
import type { Disk } from './disk/disk.js';
import type { StoreMetrics } from './metrics.js';
import { QueueIndex, type LivenessSink } from './queue-index.js';
import type { RecoveryResult } from './recovery.js';
import type { RecoveredBodyEntry } from './large-bodies.js';
import { SegmentTable } from './segment-table.js';

export const SPILL_DIR = 'index-spill';

/**
 * What a file store knows in memory — the segment table and the queue indexes — built at
 * open either by scanning the journal (recovery.ts) or from a clean-shutdown snapshot
 * (snapshot.ts). It is also the indexes' liveness sink, feeding the segment table.
 */
export class StoreState implements LivenessSink {
  readonly segments = new SegmentTable();
  readonly indexes = new Map<number, QueueIndex>();
  /** 1 + the highest seq known per queue, from the journal (seqs are never reused) */
  readonly nextSeqs = new Map<number, number>();
  maxMsgId = 0;
  /** entries whose MSG names a body in parts (a scan finds them; a snapshot is never written with any) */
  bodyEntries: RecoveredBodyEntry[] = [];
  /** highest segment number on disk: new segments continue above it */
  lastSegment = 0;
  /** during purge/delete: the segments of the entries removed (their cancel targets) */
  collecting: Set<number> | null = null;
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #residentChunks: number;
  readonly #metrics: StoreMetrics;

  constructor(disk: Disk, dir: string, residentChunks: number, metrics: StoreMetrics) {
    this.#disk = disk;
    this.#dir = dir;
    this.#residentChunks = residentChunks;
    this.#metrics = metrics;
  }

  /** State from a journal scan. */
  static fromRecovery(r: RecoveryResult, disk: Disk, dir: string, residentChunks: number, metrics: StoreMetrics): StoreState {
    const st = new StoreState(disk, dir, residentChunks, metrics);
    st.maxMsgId = r.maxMsgId;
    st.lastSegment = r.lastSegment;
    st.bodyEntries = r.bodyEntries;
    for (const [q, next] of r.nextSeqs) st.nextSeqs.set(q, next);
    for (const s of r.segments) st.segments.sealed(s.number, s.size);
    for (const [segment, targets] of r.cancelTargets) st.segments.addCancelTargets(segment, targets);
    for (const q of r.queues) {
      st.indexFor(q.queueId).appendAll(q, q.count);
    }
    return st;
  }

  indexFor(queueId: number): QueueIndex {
    let idx = this.indexes.get(queueId);
    if (!idx) {
      idx = new QueueIndex(queueId, this, {
        maxResidentChunks: this.#residentChunks,
        spillPath: join(this.#dir, SPILL_DIR, `${queueId}.idx`),
        disk: this.#disk,
        metrics: this.#metrics,
      });
      this.indexes.set(queueId, idx);
    }
    return idx;
  }

  /**
   * The indexes of a message's targets, into `out`, after checking every target before
   * anything is written: not deleted, named once, its seq above every seq the queue had.
   */
  targetIndexes(queueIds: ArrayLike<number>, seqs: ArrayLike<number>, count: number, deleted: ReadonlySet<number>, out: QueueIndex[]): QueueIndex[] {
    for (let i = 0; i < count; i++) {
      const q = queueIds[i];
      if (deleted.has(q)) throw new RangeError(`queue ${q} was deleted`);
      for (let j = 0; j < i; j++) if (queueIds[j] === q) throw new RangeError(`queue ${q} named twice`);
      const idx = this.indexFor(q);
      const floor = this.nextSeq(q) - 1;
      if (!(seqs[i] > floor) || !Number.isSafeInteger(seqs[i])) {
        throw new RangeError(`queue ${q}: seq ${seqs[i]} must be an integer above ${floor}`);
      }
      out[i] = idx;
    }
    return out;
  }

  /** index entries held in memory / spilled, bytes of resident chunk arrays, and live entries in all */
  indexTotals(): { resident: number; spilled: number; bytes: number; entries: number } {
    const t = { resident: 0, spilled: 0, bytes: 0, entries: 0 };
    for (const idx of this.indexes.values()) {
      const memory = idx.memory();
      t.resident += memory.resident;
      t.spilled += memory.spilled;
      t.bytes += memory.bytes;
      t.entries += idx.length;
    }
    return t;
  }

  /** the seq a queue continues from */
  nextSeq(queueId: number): number {
    const last = this.indexes.get(queueId)?.lastSeq ?? 0;
    return Math.max(last + 1, this.nextSeqs.get(queueId) ?? 1);
  }

  /** Drop what was built (a snapshot that turned out unusable). */
  discard(): void {
    for (const idx of this.indexes.values()) idx.close();
    this.indexes.clear();
  }

  retain(segment: number, refs: number, bytes: number): void {
    this.segments.retain(segment, refs, bytes);
  }

  release(segment: number, refs: number, bytes: number): void {
    this.segments.release(segment, refs, bytes);
    this.collecting?.add(segment);
  }
}
