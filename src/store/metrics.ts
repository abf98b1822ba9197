/**
 * Store counters, after RocksDB's operational statistics (WAL bytes and syncs, sync latency,
 * group-commit sizes, compaction bytes, write and space amplification, live vs total bytes):
 * the numbers that explain high disk use, high I/O and stalls. Plain fields, bumped on the
 * write path without allocation; `snapshot()` makes the plain object the core exposes.
 */
import type { RecoveryReport } from './recovery.js';

/**
 * A log-scale histogram: 4 buckets per power of two (±9 % resolution), values ≥ 0.
 * Enough for latency and size percentiles without keeping samples.
 */
export class LogHistogram {
  static readonly SUB = 4;
  readonly #counts = new Float64Array(64 * LogHistogram.SUB + 1);
  count = 0;
  sum = 0;
  max = 0;

  record(value: number): void {
    const v = value > 0 ? value : 0;
    const i = v < 1 ? 0 : Math.min(this.#counts.length - 1, 1 + Math.floor(Math.log2(v) * LogHistogram.SUB));
    this.#counts[i]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** upper bound of the bucket holding the q-quantile (0 < q ≤ 1) */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return i === 0 ? 1 : Math.min(this.max, 2 ** (i / LogHistogram.SUB));
    }
    return this.max;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      sum: this.sum,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.max,
    };
  }
}

export interface HistogramSummary {
  count: number;
  sum: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Counters kept by the journal, reclaimer, reader and recovery. */
export class StoreMetrics {
  /** Take the recovery figures of the open. */
  noteRecovery(report: RecoveryReport): void {
    this.recoveryMillis = report.millis;
    this.recoverySegmentsScanned = report.segmentsScanned;
    this.recoveryRecordsReplayed = report.recordsReplayed;
    this.recoveryTruncatedBytes = report.truncated.reduce((n, t) => n + t.bytes, 0);
    this.recoveryDamagedBytes = report.damaged.reduce((n, d) => n + d.bytes, 0);
    this.recoveredMessages = report.messages;
    this.uncleanShutdown = report.uncleanShutdown;
  }

  // journal
  journalBytesWritten = 0;
  /** properties + body bytes accepted from publishers (copies excluded): write amplification's denominator */
  userPayloadBytes = 0;
  /** bytes of records checksummed: framed at append and verified when read back (a body should be scanned once, unless it is paged) */
  checksummedBytes = 0;
  msgRecords = 0;
  /** MSG records left out: consumed on every queue before their round was written (elision.ts) */
  elidedRecords = 0;
  elidedBytes = 0;
  ackRecords = 0;
  purgeRecords = 0;
  queueDeleteRecords = 0;
  otherRecords = 0;
  /** group commits (one gather write + one sync each) */
  flushes = 0;
  writevCalls = 0;
  fsyncs = 0;
  readonly fsyncMicros = new LogHistogram();
  readonly batchRecords = new LogHistogram();
  readonly batchBytes = new LogHistogram();
  /** publish (append) to durable: the confirm latency the store adds */
  readonly commitMicros = new LogHistogram();
  segmentsCreated = 0;
  writeErrors = 0;

  // reclaim and compaction
  segmentsDeleted = 0;
  bytesReclaimed = 0;
  compactionRuns = 0;
  compactionBytesRead = 0;
  compactionBytesWritten = 0;
  compactionRecordsCopied = 0;

  // reads
  reads = 0;
  readBytes = 0;
  messagesRead = 0;
  readErrors = 0;

  // index spill
  indexChunksSpilled = 0;
  indexChunksLoaded = 0;

  // recovery
  recoveryMillis = 0;
  recoverySegmentsScanned = 0;
  recoveryRecordsReplayed = 0;
  recoveryTruncatedBytes = 0;
  recoveryDamagedBytes = 0;
  recoveredMessages = 0;
  uncleanShutdown = false;
}

/** Gauges the store computes when asked (segment table, indexes). */
export interface StoreGauges {
  segments: number;
  diskBytes: number;
  liveBytes: number;
  garbageBytes: number;
  /** live share of the bytes on disk, 0…1 (1 when empty) */
  liveRatio: number;
  /** garbage in segments the compactor would take now */
  compactionDebtBytes: number;
  /** live entries over all durable queues (each a record on disk) */
  messagesOnDisk: number;
  /** index entries held in memory vs spilled to the per-queue index files */
  indexEntriesResident: number;
  indexEntriesSpilled: number;
  indexBytesResident: number;
  pendingAppendBytes: number;
  durableLsn: number;
  openReadFiles: number;
  readOnly: boolean;
}

/** The plain object the core exposes (management, Prometheus `warren_store_*`). */
export interface StoreMetricsSnapshot extends StoreGauges {
  journalBytesWritten: number;
  userPayloadBytes: number;
  checksummedBytes: number;
  records: { msg: number; ack: number; purge: number; queueDelete: number; other: number };
  /** MSG records (and their bytes) never written: consumed on every queue first */
  elided: { records: number; bytes: number };
  flushes: number;
  writevCalls: number;
  fsyncs: number;
  fsyncMicros: HistogramSummary;
  batchRecords: HistogramSummary;
  batchBytes: HistogramSummary;
  commitMicros: HistogramSummary;
  segmentsCreated: number;
  segmentsDeleted: number;
  bytesReclaimed: number;
  writeErrors: number;
  compaction: { runs: number; bytesRead: number; bytesWritten: number; recordsCopied: number };
  /** (journal bytes, compaction copies included) / user payload bytes */
  writeAmplification: number;
  /** disk bytes / live bytes (1 when nothing is live) */
  spaceAmplification: number;
  reads: { count: number; bytes: number; messages: number; errors: number };
  index: { chunksSpilled: number; chunksLoaded: number };
  recovery: {
    millis: number;
    segmentsScanned: number;
    recordsReplayed: number;
    truncatedBytes: number;
    damagedBytes: number;
    messages: number;
    uncleanShutdown: boolean;
  };
}

/** A file store's gauges from its segment table and index totals. */
export function storeGauges(
  segments: { readonly size: number; diskBytes(): number; liveBytes(): number },
  index: { entries: number; resident: number; spilled: number; bytes: number },
  compactionDebtBytes: number,
  pendingAppendBytes: number,
  durableLsn: number,
  openReadFiles: number,
  readOnly: boolean,
): StoreGauges {
  const diskBytes = segments.diskBytes();
  const liveBytes = Math.min(diskBytes, segments.liveBytes());
  return {
    segments: segments.size,
    diskBytes,
    liveBytes,
    garbageBytes: diskBytes - liveBytes,
    liveRatio: diskBytes === 0 ? 1 : liveBytes / diskBytes,
    compactionDebtBytes,
    messagesOnDisk: index.entries,
    indexEntriesResident: index.resident,
    indexEntriesSpilled: index.spilled,
    indexBytesResident: index.bytes,
    pendingAppendBytes,
    durableLsn,
    openReadFiles,
    readOnly,
  };
}

export function snapshotMetrics(metrics: StoreMetrics, g: StoreGauges): StoreMetricsSnapshot {
  return {
    ...g,
    journalBytesWritten: metrics.journalBytesWritten,
    userPayloadBytes: metrics.userPayloadBytes,
    checksummedBytes: metrics.checksummedBytes,
    records: {
      msg: metrics.msgRecords,
      ack: metrics.ackRecords,
      purge: metrics.purgeRecords,
      queueDelete: metrics.queueDeleteRecords,
      other: metrics.otherRecords,
    },
    elided: { records: metrics.elidedRecords, bytes: metrics.elidedBytes },
    flushes: metrics.flushes,
    writevCalls: metrics.writevCalls,
    fsyncs: metrics.fsyncs,
    fsyncMicros: metrics.fsyncMicros.summary(),
    batchRecords: metrics.batchRecords.summary(),
    batchBytes: metrics.batchBytes.summary(),
    commitMicros: metrics.commitMicros.summary(),
    segmentsCreated: metrics.segmentsCreated,
    segmentsDeleted: metrics.segmentsDeleted,
    bytesReclaimed: metrics.bytesReclaimed,
    writeErrors: metrics.writeErrors,
    compaction: {
      runs: metrics.compactionRuns,
      bytesRead: metrics.compactionBytesRead,
      bytesWritten: metrics.compactionBytesWritten,
      recordsCopied: metrics.compactionRecordsCopied,
    },
    writeAmplification: metrics.userPayloadBytes === 0 ? 0 : metrics.journalBytesWritten / metrics.userPayloadBytes,
    spaceAmplification: g.liveBytes === 0 ? 1 : g.diskBytes / g.liveBytes,
    reads: { count: metrics.reads, bytes: metrics.readBytes, messages: metrics.messagesRead, errors: metrics.readErrors },
    index: { chunksSpilled: metrics.indexChunksSpilled, chunksLoaded: metrics.indexChunksLoaded },
    recovery: {
      millis: metrics.recoveryMillis,
      segmentsScanned: metrics.recoverySegmentsScanned,
      recordsReplayed: metrics.recoveryRecordsReplayed,
      truncatedBytes: metrics.recoveryTruncatedBytes,
      damagedBytes: metrics.recoveryDamagedBytes,
      messages: metrics.recoveredMessages,
      uncleanShutdown: metrics.uncleanShutdown,
    },
  };
}

/** An empty gauge set (the memory store has no files). */
export const NO_FILE_GAUGES: Omit<StoreGauges, 'messagesOnDisk' | 'indexEntriesResident' | 'pendingAppendBytes' | 'durableLsn' | 'readOnly'> = {
  segments: 0,
  diskBytes: 0,
  liveBytes: 0,
  garbageBytes: 0,
  liveRatio: 1,
  compactionDebtBytes: 0,
  indexEntriesSpilled: 0,
  indexBytesResident: 0,
  openReadFiles: 0,
};
