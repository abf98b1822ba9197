import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import type { Disk } from '../disk/disk.js';
import { realDisk } from '../disk/real-disk.js';
import { noteInSummary } from './segment-summary.js';
import { cleanerWorkerMain, type CleanerJob, type CleanerOutput, type CleanerResult } from './cleaner-worker.js';
import { SEGMENT_HEADER_SIZE, streamSegmentName } from './stream-format.js';
import type { StreamLog } from './stream-log.js';
import { StreamSegment } from './stream-segment.js';

/** Key compaction settings of one stream (`x-stream-compaction: key`). */
export interface CompactionSettings {
  /** tombstones (empty bodies) are kept this long, so readers behind see the deletion (Kafka delete.retention.ms) */
  tombstoneRetentionMs: number;
  /** clean once this share of the sealed bytes was written since the last run (Kafka min.cleanable.dirty.ratio) */
  minDirtyRatio: number;
  /** bound of the key map of one run (Kafka's dedupe buffer, in keys) */
  maxKeys: number;
}

export const COMPACTION_DEFAULTS: CompactionSettings = {
  tombstoneRetentionMs: 24 * 3600_000,
  minDirtyRatio: 0.5,
  maxKeys: 1_000_000,
};

export interface CleanReport {
  outputs: number;
  recordsRemoved: number;
  bytesRead: number;
  bytesWritten: number;
  keys: number;
}

interface Pending {
  resolve: (r: CleanerResult) => void;
  reject: (e: Error) => void;
}

/**
 * The main-thread side of key compaction: one worker thread for every stream of the node,
 * one job at a time (the caller serializes jobs per stream with its retention). The worker
 * rewrites segments (cleaner-worker.ts); this side finishes each swap: it switches the log's
 * segment list at once — readers holding a removed segment re-seek by offset, so a reader
 * sees either the old records or the compacted ones, never a mix inside one segment — then
 * unlinks the inputs, renames the output into place and writes its index files.
 *
 * A failed run marks that stream `uncleanable` with the reason and the cleaner carries on
 * with the others (the silent-death failure of Kafka's cleaner thread, KIP-346).
 *
 * On a disk another thread cannot open (a simulated one: `disk.workerThreads` false), the
 * same program runs inline on the disk's synchronous calls: the event loop stalls for the
 * length of a run, which only tests see.
 */
export class StreamCleaner {
  readonly #disk: Disk;
  #inline: ((job: CleanerJob) => CleanerResult) | null = null;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(disk: Disk = realDisk) {
    this.#disk = disk;
  }

  /** Compact `log` now. Segments sealed at the time are inputs; the newer ones only supersede keys. */
  async clean(log: StreamLog, settings: CompactionSettings, now: number): Promise<CleanReport> {
    if (this.#closed) throw new Error('cleaner closed');
    const segments = log.segments;
    let k = 0;
    while (k < segments.length - 1 && segments[k].sealed && !segments[k].removed) k++;
    const inputs = segments.slice(0, k);
    const report: CleanReport = { outputs: 0, recordsRemoved: 0, bytesRead: 0, bytesWritten: 0, keys: 0 };
    if (inputs.length === 0) return report;
    const job: CleanerJob = {
      id: this.#nextId++,
      dir: log.options.dir,
      queueId: log.options.queueId,
      inputs: inputs.map((s) => ({ base: s.base, path: s.path, dataEnd: s.readableEnd })),
      newer: segments
        .slice(k)
        .filter((s) => s.readableEnd > SEGMENT_HEADER_SIZE)
        .map((s) => ({ base: s.base, path: s.pendingPath ?? s.path, dataEnd: s.readableEnd })),
      tombstoneCutoff: now - settings.tombstoneRetentionMs,
      maxSegmentSize: log.options.maxSegmentSize,
      maxRecordSize: log.options.maxRecordSize,
      maxKeys: settings.maxKeys,
    };
    const result = await this.#run(job);
    const metrics = log.metrics;
    if (result.error !== null) {
      metrics.uncleanable = result.error.split('\n')[0];
      log.options.log?.('error', 'stream compaction failed: stream marked uncleanable', { queueId: job.queueId, error: result.error });
      throw new Error(`stream ${job.queueId} compaction failed: ${metrics.uncleanable}`);
    }
    for (const o of result.outputs) await this.#swap(log, inputs, o);
    metrics.compactionRuns++;
    metrics.compactionBytesRead += result.bytesRead;
    metrics.compactionBytesWritten += result.bytesWritten;
    metrics.compactionRecordsRemoved += result.recordsRemoved;
    metrics.compactionLastSuccess = Date.now();
    metrics.uncleanable = null;
    if (result.covered > 0) log.cleanedUpTo = Math.max(log.cleanedUpTo, inputs[result.covered - 1].lastOffset);
    return {
      outputs: result.outputs.length,
      recordsRemoved: result.recordsRemoved,
      bytesRead: result.bytesRead,
      bytesWritten: result.bytesWritten,
      keys: result.keys,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = null;
    if (w) await w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error('cleaner closed'));
    this.#pending.clear();
  }

  #run(job: CleanerJob): Promise<CleanerResult> {
    if (!this.#disk.workerThreads) {
      const disk = this.#disk;
      this.#inline ??= cleanerWorkerMain({ fs: disk as never, crc32, join }, noteInSummary) as (job: CleanerJob) => CleanerResult;
      const run = this.#inline;
      return new Promise((resolve) => setImmediate(() => resolve(run(job))));
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(job.id, { resolve, reject });
      this.#ensureWorker().postMessage(job);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(`(${cleanerWorkerMain.toString()})(undefined, ${noteInSummary.toString()})`, { eval: true });
    w.unref();
    w.on('message', (r: CleanerResult) => {
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      p?.resolve(r);
    });
    const fail = (e: Error): void => {
      // the worker died: fail what it held, start a new one for the next job
      if (this.#worker === w) this.#worker = null;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (!this.#closed && code !== 0) fail(new Error(`stream cleaner worker exited with code ${code}`));
    });
    this.#worker = w;
    return w;
  }

  /** Finish one output's swap (the worker committed it: `.ws.swap` + `.swapinfo` are on disk). */
  async #swap(log: StreamLog, candidates: StreamSegment[], o: CleanerOutput): Promise<void> {
    const dir = log.options.dir;
    const inputs = o.inputs.map((b) => candidates.find((s) => s.base === b) as StreamSegment);
    let output: StreamSegment | null = null;
    const swapPath = join(dir, `${streamSegmentName(o.base)}.swap`);
    if (o.hasOutput) {
      output = new StreamSegment(this.#disk, dir, o.base);
      output.pendingPath = swapPath;
      output.applySummary({
        base: o.base,
        firstOffset: o.firstOffset,
        lastOffset: o.lastOffset,
        firstTimestamp: o.firstTimestamp,
        lastTimestamp: o.lastTimestamp,
        records: o.records,
        dataEnd: o.dataEnd,
        lastChunkStart: o.lastChunkStart,
      });
      for (let i = 0; i < o.entries.length; i += 3) output.index.note(o.entries[i], o.entries[i + 1], o.entries[i + 2]);
      output.sealed = true;
    }
    // one synchronous switch: from here on readers find the compacted segment
    log.replaceSegments(inputs, output);
    const disk = this.#disk;
    for (const s of inputs) await s.unlinkFiles();
    await disk.syncDirectory(dir);
    if (output) {
      await disk.rename(swapPath, output.path);
      output.pendingPath = null;
      await output.writeIndexFiles();
      await disk.syncDirectory(dir);
    }
    await disk.unlink(join(dir, `${String(o.base).padStart(20, '0')}.swapinfo`));
  }
}
