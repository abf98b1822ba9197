import { join } from 'node:path';
import { MsgView, RECORD_HEADER_SIZE, RecordType, readMsg, segmentFileName } from './format.js';
import type { StoreMetrics } from './metrics.js';
import type { StoreLog } from './recovery.js';
import { readSegmentFile } from './log/segment-file.js';
import type { Disk } from './disk/disk.js';
import type { DirectorySync } from './directory-sync.js';
import { ScannedRecord, scanSegment } from './segment-scanner.js';
import type { SegmentInfo, SegmentTable } from './segment-table.js';

export interface ReclaimOptions {
  /** how often to look for work (deletion also runs right after a flush frees something) */
  intervalMs: number;
  /** roll an idle active segment that holds garbage, so it can be reclaimed (lavinmq#1715) */
  idleRolloverMs: number;
  /** compact a sealed segment whose live share of bytes is below this */
  compactBelowLiveRatio: number;
  /** …and which is at least this big (small leftovers are not worth a copy) */
  compactMinBytes: number;
  /** …and at least this many segments behind the active one (young garbage may still die) */
  compactLagSegments: number;
  /** …and sealed at least this long ago (a lagging consumer's backlog dies soon: copying it is waste) */
  compactMinAgeMs: number;
  /** copy-forward budget, so compaction never starves publishers of disk bandwidth */
  maxCompactionBytesPerSecond: number;
}

export const DEFAULT_RECLAIM: ReclaimOptions = {
  intervalMs: 1000,
  idleRolloverMs: 30_000,
  compactBelowLiveRatio: 0.5,
  compactMinBytes: 4 * 1024 * 1024,
  compactLagSegments: 2,
  compactMinAgeMs: 5000,
  maxCompactionBytesPerSecond: 64 * 1024 * 1024,
};

/** What the reclaimer needs from the file store. */
export interface ReclaimHost {
  readonly dir: string;
  readonly segments: SegmentTable;
  readonly counters: StoreMetrics;
  readonly maxRecordSize: number;
  readonly log: StoreLog;
  readonly disk: Disk;
  /** the directory's fsync, shared with the journal's segment creation */
  readonly directory: DirectorySync;
  /** the segment appends go to (never reclaimed) */
  activeSegment(): number;
  /** appends so far: idle while it does not move */
  appendCount(): number;
  /** the store can still write (not failed, not closing) */
  writable(): boolean;
  rollover(): void;
  /** re-append the MSG record if any target is still live there; @returns its LSN or 0 */
  copyMessage(buf: Buffer, rec: ScannedRecord, view: MsgView, segment: number): number;
  /** re-append a cancel record verbatim into the active segment; @returns its LSN */
  copyCancel(buf: Buffer, rec: ScannedRecord, targets: Set<number>): number;
  waitDurable(lsn: number): Promise<void>;
  closeReadHandle(segment: number): void;
}

/**
 * Gives disk space back (STORE.md §3.6):
 * - deletes sealed segments with no needed record — always preferred, it costs no writes
 *   (observed in rabbitmq-server#13967: deleting whole files frees space far faster);
 * - copies forward the needed records of old, mostly dead segments, paced by a byte budget,
 *   then deletes them once the copies are durable;
 * - rolls an idle active segment that holds garbage, so quiet vhosts shrink too.
 * Errors are counted and logged, never thrown: reclaim retries at the next tick.
 */
export class Reclaimer {
  readonly #host: ReclaimHost;
  readonly #o: ReclaimOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #lastCount = -1;
  #lastChange = 0;
  errors = 0;

  constructor(host: ReclaimHost, options: ReclaimOptions) {
    this.#host = host;
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
    this.kick();
  }

  /** Run a pass soon (something became reclaimable). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Run passes until nothing more can be reclaimed now (tests, tools). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.#running) await this.#running;
      const before = this.#host.counters.segmentsDeleted + this.#host.counters.compactionRuns;
      this.kick();
      if (this.#running) await this.#running;
      if (this.#host.counters.segmentsDeleted + this.#host.counters.compactionRuns === before && !this.#host.segments.dirty) return;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#running) await this.#running;
  }

  #tick(): void {
    const h = this.#host;
    if (!h.writable()) return;
    const count = h.appendCount();
    const now = Date.now();
    if (count !== this.#lastCount) {
      this.#lastCount = count;
      this.#lastChange = now;
    }
    const active = h.segments.get(h.activeSegment());
    if (active && now - this.#lastChange >= this.#o.idleRolloverMs && active.size > active.liveBytes + 64) {
      // idle and holding garbage: seal it so it can be reclaimed
      h.rollover();
    }
    this.kick();
  }

  async #pass(): Promise<void> {
    try {
      await this.#deleteDead();
      const victim = this.#compactionCandidate();
      if (victim && this.#host.writable()) {
        await this.#compact(victim);
        await this.#deleteDead();
      }
    } catch (e) {
      this.errors++;
      this.#host.log('error', `journal reclaim failed: ${(e as Error).message}`);
    }
  }

  async #deleteDead(): Promise<void> {
    const h = this.#host;
    for (let round = 0; round < 1000; round++) {
      const dead = h.segments.deletable();
      if (dead.length === 0) return;
      for (const s of dead) {
        s.deleting = true;
        h.closeReadHandle(s.number);
      }
      try {
        for (const s of dead) {
          await h.disk.unlink(join(h.dir, segmentFileName(s.number))).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOENT') throw e;
          });
        }
        // The unlinks must be durable before segments whose cancel records they made
        // unnecessary go too (otherwise a power loss could bring back a MSG without its ACK):
        // until then they stay in the table, `deleting`, and keep those segments.
        h.directory.changed();
        await h.directory.sync();
      } catch (e) {
        for (const s of dead) s.deleting = false;
        throw e;
      }
      for (const s of dead) {
        h.counters.segmentsDeleted++;
        h.counters.bytesReclaimed += s.size;
        h.segments.markDeleted(s);
      }
    }
  }

  /** the sealed segment with the lowest live ratio under the threshold, old enough and big enough */
  #compactionCandidate(): SegmentInfo | null {
    const h = this.#host;
    const o = this.#o;
    const limit = h.activeSegment() - o.compactLagSegments;
    const sealedBefore = Date.now() - o.compactMinAgeMs;
    let best: SegmentInfo | null = null;
    let bestRatio = o.compactBelowLiveRatio;
    for (const s of h.segments.list()) {
      if (s.number > limit) break;
      // parts of a live body stay where its part list says they are: such a segment is never copied
      if (!s.sealed || s.deleted || s.deleting || s.compacting || s.partRefs > 0 || s.size < o.compactMinBytes || s.sealedAt > sealedBefore) continue;
      const ratio = s.liveBytes / s.size;
      if (ratio < bestRatio) {
        best = s;
        bestRatio = ratio;
      }
    }
    return best;
  }

  /** bytes of garbage in segments that qualify for compaction now */
  debtBytes(): number {
    const h = this.#host;
    const limit = h.activeSegment() - this.#o.compactLagSegments;
    let debt = 0;
    for (const s of h.segments.list()) {
      if (s.number > limit || !s.sealed || s.partRefs > 0 || s.size < this.#o.compactMinBytes) continue;
      if (s.liveBytes / s.size < this.#o.compactBelowLiveRatio) debt += s.size - s.liveBytes;
    }
    return debt;
  }

  /**
   * Copy the needed records of `s` to the head of the journal: each MSG with its targets
   * still live there (same msg id and seqs, so recovery cannot tell), and the cancel records
   * while what they cancel still exists. Once the copies are durable, nothing in `s` is needed.
   */
  async #compact(s: SegmentInfo): Promise<void> {
    const h = this.#host;
    s.compacting = true;
    try {
      const buf = await readSegmentFile(h.disk, join(h.dir, segmentFileName(s.number)));
      h.counters.compactionBytesRead += buf.length;
      const view = new MsgView();
      const cancels = h.segments.cancelsNeeded(s) ? new Set(s.cancelTargets) : null;
      let lastLsn = 0;
      let copied = 0;
      const started = performance.now();
      const records: { offset: number; type: number; end: number }[] = [];
      scanSegment(buf, { maxRecordSize: h.maxRecordSize, salvage: true }, (_b, rec) => {
        records.push({ offset: rec.offset, type: rec.type, end: rec.end });
        return true;
      });
      const rec = new ScannedRecord();
      for (const r of records) {
        if (!h.writable()) return;
        rec.offset = r.offset;
        rec.type = r.type;
        rec.payloadAt = r.offset + RECORD_HEADER_SIZE;
        rec.payloadLength = r.end - rec.payloadAt;
        let lsn = 0;
        if (r.type === RecordType.MSG) {
          if (!readMsg(buf, rec.payloadAt, rec.payloadLength, view)) continue;
          lsn = h.copyMessage(buf, rec, view, s.number);
        } else if (cancels !== null && (r.type === RecordType.ACK || r.type === RecordType.PURGE || r.type === RecordType.QUEUE_DELETE)) {
          lsn = h.copyCancel(buf, rec, cancels);
        }
        if (lsn === 0) continue;
        lastLsn = lsn;
        copied += r.end - r.offset;
        // pacing: stay under the byte budget (checked per record, slept in small steps)
        const ahead = copied / this.#o.maxCompactionBytesPerSecond - (performance.now() - started) / 1000;
        if (ahead > 0.01) await sleep(ahead * 1000);
      }
      if (lastLsn > 0) await h.waitDurable(lastLsn);
      h.counters.compactionRuns++;
      // the copies now carry everything `s` was needed for
      s.cancelTargets = null;
      h.segments.dirty = true;
      h.log('info', `journal: compacted segment ${s.number} (${copied} of ${buf.length} bytes copied forward)`);
    } finally {
      s.compacting = false;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
