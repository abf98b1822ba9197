import { DEFAULT_RECLAIM, type ReclaimOptions } from './compaction.js';
import type { Durability } from './journal.js';
import type { StoreLog } from './recovery.js';
import type { Disk } from './disk/disk.js';
import type { AppendObserver } from './log/append-observer.js';
import { realDisk } from './disk/real-disk.js';

export interface FileStoreOptions {
  /** the journal directory of one vhost (created if missing) */
  dir: string;
  /** written into segment headers and checked at recovery (the vhost's id) */
  journalId?: number;
  /** default 'fsync' (see Durability) */
  durability?: Durability;
  /** default 16 MiB (STORE.md §3.3: reclaim granularity vs file count) */
  segmentSize?: number;
  /** a record longer than this is corruption; default 128 MiB + 64 KiB (RabbitMQ's max message size) */
  maxRecordSize?: number;
  /**
   * Bytes one group-commit round writes before its fdatasync, at most (a single larger record
   * is a round of its own); default 4 MiB. Bounds a round under large messages, so the first
   * confirms of a burst wait for a few MiB, not for everything appended meanwhile.
   */
  roundBytes?: number;
  /**
   * A MSG record at least this long (header included) whose every queue copy a consumer
   * acknowledged before its group-commit round was taken is not written (elision.ts); default
   * 4 KiB (a gap smaller than a page saves no disk write). 0: any record; Infinity: none.
   */
  elideMinBytes?: number;
  /**
   * While the last round left a record out (consumers keep up), the next round is taken once
   * its oldest such record has waited this long, or once `roundBytes` wait: time for its
   * consumer's ack to arrive. Default 4 ms; 0: only the round before it (its write and sync).
   */
  elideWindowMs?: number;
  /** index chunks (4,096 entries, 144 KiB each) kept in memory per queue; default 8 */
  indexResidentChunks?: number;
  /** recovery drops references to queues this returns false for (gone from the metadata) */
  isKnownQueue?: (queueId: number) => boolean;
  reclaim?: Partial<ReclaimOptions>;
  /** where recovery reports, write failures and compaction runs go; default: process warnings */
  log?: StoreLog;
  /** the file I/O (disk/disk.ts); default the real disk. Tests pass a simulated or gated one */
  disk?: Disk;
  /** told once when a write or fdatasync failed and the store became read-only (the broker raises its disk_failure alarm) */
  onFailure?: (error: Error) => void;
  /** sees every write to the journal and its durability points (log/append-observer.ts) */
  appendObserver?: AppendObserver | null;
}

export interface ResolvedStoreOptions {
  dir: string;
  journalId: number;
  durability: Durability;
  segmentSize: number;
  maxRecordSize: number;
  roundBytes: number;
  elideMinBytes: number;
  elideWindowMs: number;
  indexResidentChunks: number;
  isKnownQueue: ((queueId: number) => boolean) | undefined;
  reclaim: ReclaimOptions;
  log: StoreLog;
  disk: Disk;
  onFailure: ((error: Error) => void) | undefined;
  appendObserver: AppendObserver | null;
}

/** The store's defaults, in one place. */
export const STORE_DEFAULTS = {
  journalId: 0,
  durability: 'fsync' as Durability,
  segmentSize: 16 * 1024 * 1024,
  maxRecordSize: 128 * 1024 * 1024 + 64 * 1024,
  roundBytes: 4 * 1024 * 1024,
  elideMinBytes: 4096,
  elideWindowMs: 4,
  indexResidentChunks: 8,
};

const warnLog: StoreLog = (level, message) => {
  if (level !== 'info') process.emitWarning(message, { code: 'WARREN_STORE' });
};

export function resolveStoreOptions(o: FileStoreOptions): ResolvedStoreOptions {
  const segmentSize = o.segmentSize ?? STORE_DEFAULTS.segmentSize;
  return {
    dir: o.dir,
    journalId: o.journalId ?? STORE_DEFAULTS.journalId,
    durability: o.durability ?? STORE_DEFAULTS.durability,
    segmentSize,
    maxRecordSize: o.maxRecordSize ?? STORE_DEFAULTS.maxRecordSize,
    roundBytes: o.roundBytes ?? STORE_DEFAULTS.roundBytes,
    elideMinBytes: o.elideMinBytes ?? STORE_DEFAULTS.elideMinBytes,
    elideWindowMs: o.elideWindowMs ?? STORE_DEFAULTS.elideWindowMs,
    indexResidentChunks: o.indexResidentChunks ?? STORE_DEFAULTS.indexResidentChunks,
    isKnownQueue: o.isKnownQueue,
    // small segments (tests) would never reach the default minimum compaction size
    reclaim: { ...DEFAULT_RECLAIM, compactMinBytes: Math.min(DEFAULT_RECLAIM.compactMinBytes, segmentSize / 4), ...o.reclaim },
    log: o.log ?? warnLog,
    disk: o.disk ?? realDisk,
    onFailure: o.onFailure,
    appendObserver: o.appendObserver ?? null,
  };
}
