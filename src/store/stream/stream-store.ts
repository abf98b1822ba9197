import type { Disk } from '../disk/disk.js';
import { realDisk } from '../disk/real-disk.js';
import { dirname, join } from 'node:path';
import type { Durability } from '../journal.js';
import { StreamCleaner, type CleanReport, type CompactionSettings } from './cleaner.js';
import type { StreamOffsetStore } from './offset-store.js';
import type { RetentionLimits } from './retention.js';
import { StreamLog, type StreamLogOptions } from './stream-log.js';
import { openStreamLog } from './stream-recovery.js';

/** What a stream's arguments (and policy) ask of its log. */
export interface StreamConfig {
  /** x-stream-max-segment-size-bytes */
  maxSegmentSize: number;
  retention: RetentionLimits;
  /** roll the active segment once it is this old, so retention and compaction get sealed input */
  maxSegmentAgeMs: number;
  /** x-stream-compaction: key; null = no compaction */
  compaction: CompactionSettings | null;
}

export interface StreamStoreOptions {
  /** `<data dir>/streams`: one directory per stream, named by its queue id */
  dir: string;
  durability: Durability;
  /** stored consumer offsets; null: kept in memory only */
  offsets: StreamOffsetStore | null;
  /** retention, age rollover and compaction checks (default 60 s, STORE.md §3.7) */
  maintenanceIntervalMs?: number;
  /** how often changed consumer offsets are saved (default 1 s) */
  offsetFlushIntervalMs?: number;
  log?: StreamLogOptions['log'];
  /** the file I/O; default the real disk */
  disk?: Disk;
  onFailure?: StreamLogOptions['onFailure'];
  /** sees every write to every stream and its durability points (log/append-observer.ts) */
  appendObserver?: StreamLogOptions['appendObserver'];
}

export const STREAM_DEFAULTS = {
  maxSegmentSize: 64 * 1024 * 1024,
  maxRecordSize: 512 * 1024 * 1024,
  maxSegmentAgeMs: 3600_000,
};

interface Entry {
  log: StreamLog;
  config: StreamConfig;
  /** retention and compaction of one stream never overlap: a promise chain per stream */
  busy: Promise<unknown>;
  lastCompaction: number;
}

/**
 * Every stream log of the node: opening them at start (finishing interrupted compactions,
 * cutting torn tails), creating and deleting them, retention and key compaction (one cleaner
 * worker for all), and the named consumers' offsets (in memory, saved about once a second).
 */
export class StreamStore {
  readonly options: StreamStoreOptions;
  readonly disk: Disk;
  readonly cleaner: StreamCleaner;
  readonly #streams = new Map<number, Entry>();
  readonly #offsets = new Map<string, { queueId: number; consumer: string; committed: number }>();
  readonly #dirty = new Set<string>();
  #maintenanceTimer: NodeJS.Timeout | null = null;
  #offsetTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: StreamStoreOptions) {
    this.options = options;
    this.disk = options.disk ?? realDisk;
    this.cleaner = new StreamCleaner(this.disk);
    this.disk.mkdirSync(options.dir);
    this.#maintenanceTimer = setInterval(() => void this.maintain(Date.now()), options.maintenanceIntervalMs ?? 60_000);
    this.#maintenanceTimer.unref();
    this.#offsetTimer = setInterval(() => this.flushOffsets(), options.offsetFlushIntervalMs ?? 1000);
    this.#offsetTimer.unref();
  }

  /**
   * Open the logs of the streams the metadata knows (`configs` by queue id); directories of
   * streams it does not know (deleted before a crash finished removing them) are removed.
   */
  async recover(configs: Map<number, StreamConfig>): Promise<void> {
    // the directory was made synchronously at construction: its name is made durable here
    await this.disk.syncDirectory(dirname(this.options.dir));
    for (const name of await this.disk.readdir(this.options.dir)) {
      const id = /^\d+$/.test(name) ? Number(name) : -1;
      if (id > 0 && !configs.has(id)) await this.disk.rm(join(this.options.dir, name));
    }
    for (const [id, config] of configs) {
      const log = await openStreamLog(this.#logOptions(id, config));
      this.#add(id, log, config);
      await this.#retention(this.#streams.get(id) as Entry, Date.now());
    }
  }

  /** The log of a stream recovered or created before. */
  get(queueId: number): StreamLog | undefined {
    return this.#streams.get(queueId)?.log;
  }

  /** A new, empty stream (synchronous: queue.declare answers at once; files appear at the first flush). */
  create(queueId: number, config: StreamConfig): StreamLog {
    const existing = this.#streams.get(queueId);
    if (existing) return existing.log;
    const options = this.#logOptions(queueId, config);
    this.disk.mkdirSync(options.dir);
    const log = new StreamLog(options, [], 0);
    this.#add(queueId, log, config);
    return log;
  }

  /** New settings (a policy changed): they apply from the next append, rollover or maintenance. */
  configure(queueId: number, config: StreamConfig): void {
    const e = this.#streams.get(queueId);
    if (!e) return;
    e.config = config;
    e.log.options.maxSegmentSize = config.maxSegmentSize;
  }

  /** The stream was deleted: its files go; its offsets went with its metadata row (ON DELETE CASCADE). */
  async delete(queueId: number): Promise<void> {
    const e = this.#streams.get(queueId);
    this.#streams.delete(queueId);
    for (const [k, v] of this.#offsets) if (v.queueId === queueId) this.#offsets.delete(k);
    if (e) await e.busy.catch(() => undefined).then(() => e.log.destroy());
  }

  // ---- consumer offsets ----------------------------------------------------------------------

  /** The offset `consumer` last committed on the stream, or undefined. */
  storedOffset(queueId: number, consumer: string): number | undefined {
    const stored = this.#offsets.get(offsetKey(queueId, consumer));
    if (stored) return stored.committed;
    return this.options.offsets?.get(queueId, consumer);
  }

  /** Every named consumer's stored offset on the stream (saved ones, and newer ones not yet flushed). */
  storedOffsets(queueId: number): Map<string, number> {
    const out = this.options.offsets?.all(queueId) ?? new Map<string, number>();
    for (const stored of this.#offsets.values()) if (stored.queueId === queueId) out.set(stored.consumer, stored.committed);
    return out;
  }

  /** Commit an offset (kept in memory, saved with the next flush). Offsets only move forward. */
  commitOffset(queueId: number, consumer: string, offset: number): void {
    const k = offsetKey(queueId, consumer);
    const stored = this.#offsets.get(k);
    if (stored) {
      if (offset <= stored.committed) return;
      stored.committed = offset;
    } else {
      const stored = this.options.offsets?.get(queueId, consumer);
      if (stored !== undefined && stored >= offset) return;
      this.#offsets.set(k, { queueId, consumer, committed: offset });
    }
    this.#dirty.add(k);
  }

  /** Save the offsets changed since the last flush, in one transaction. */
  flushOffsets(): void {
    if (this.#dirty.size === 0) return;
    const rows = [];
    for (const k of this.#dirty) {
      const stored = this.#offsets.get(k);
      if (stored && this.#streams.has(stored.queueId)) rows.push(stored);
    }
    this.#dirty.clear();
    try {
      this.options.offsets?.saveMany(rows);
    } catch (e) {
      this.options.log?.('error', 'stream offsets not saved', { error: (e as Error).message });
    }
  }

  // ---- maintenance ----------------------------------------------------------------------------

  /** Retention, age rollover and due compactions of every stream (the periodic check). */
  async maintain(now: number): Promise<void> {
    for (const e of [...this.#streams.values()]) {
      if (e.log.active.records > 0 && now - e.log.active.firstTimestamp >= e.config.maxSegmentAgeMs) e.log.rollover();
      await this.#retention(e, now);
      const c = e.config.compaction;
      if (c && (this.#dirtyRatio(e.log) >= c.minDirtyRatio || now - e.lastCompaction >= c.tombstoneRetentionMs)) {
        await this.#compact(e, now).catch(() => undefined);
      }
    }
  }

  /** Run key compaction on a stream now (tests, operators). @returns null when it has no compaction */
  async compactNow(queueId: number): Promise<CleanReport | null> {
    const e = this.#streams.get(queueId);
    if (!e || !e.config.compaction) return null;
    return this.#compact(e, Date.now());
  }

  /** Apply retention to a stream now. @returns the segments removed */
  async retentionNow(queueId: number): Promise<number> {
    const e = this.#streams.get(queueId);
    return e ? this.#retention(e, Date.now()) : 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#maintenanceTimer) clearInterval(this.#maintenanceTimer);
    if (this.#offsetTimer) clearInterval(this.#offsetTimer);
    this.flushOffsets();
    for (const e of this.#streams.values()) {
      await e.busy.catch(() => undefined);
      await e.log.close().catch((err: Error) => this.options.log?.('error', 'stream close failed', { error: err.message }));
    }
    await this.cleaner.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  #logOptions(queueId: number, config: StreamConfig): StreamLogOptions {
    return {
      dir: join(this.options.dir, String(queueId)),
      queueId,
      durability: this.options.durability,
      maxSegmentSize: config.maxSegmentSize,
      maxRecordSize: STREAM_DEFAULTS.maxRecordSize,
      log: this.options.log,
      disk: this.disk,
      onFailure: this.options.onFailure,
      appendObserver: this.options.appendObserver,
    };
  }

  #add(queueId: number, log: StreamLog, config: StreamConfig): void {
    const e: Entry = { log, config, busy: Promise.resolve(), lastCompaction: Date.now() };
    this.#streams.set(queueId, e);
    // a segment was sealed: retention may drop old ones, and a compacted stream may be due
    log.onSealed(() => {
      if (this.#closed) return;
      void this.#retention(e, Date.now());
      const c = e.config.compaction;
      if (c && this.#dirtyRatio(log) >= c.minDirtyRatio) void this.#compact(e, Date.now()).catch(() => undefined);
    });
  }

  #serialize<T>(e: Entry, f: () => Promise<T>): Promise<T> {
    const run = e.busy.catch(() => undefined).then(() => (this.#closed || e.log.closed ? (undefined as T) : f()));
    e.busy = run;
    return run;
  }

  #retention(e: Entry, now: number): Promise<number> {
    const r = e.config.retention;
    if (r.maxBytes < 0 && r.maxAgeMs < 0) return Promise.resolve(0);
    return this.#serialize(e, () => e.log.applyRetention(r, now)).then((n) => n ?? 0);
  }

  #compact(e: Entry, now: number): Promise<CleanReport> {
    const c = e.config.compaction as CompactionSettings;
    e.lastCompaction = now;
    const empty: CleanReport = { outputs: 0, recordsRemoved: 0, bytesRead: 0, bytesWritten: 0, keys: 0 };
    return this.#serialize(e, () => this.cleaner.clean(e.log, c, Date.now())).then((r) => r ?? empty);
  }

  /** share of the sealed bytes written since the last compaction (Kafka's dirty ratio) */
  #dirtyRatio(log: StreamLog): number {
    let total = 0;
    let dirty = 0;
    for (const s of log.segments) {
      if (!s.sealed) continue;
      total += s.size;
      if (s.lastOffset > log.cleanedUpTo) dirty += s.size;
    }
    return total === 0 ? 0 : dirty / total;
  }
}

const offsetKey = (queueId: number, consumer: string): string => `${queueId}\u0000${consumer}`;
