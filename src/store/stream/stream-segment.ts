import { dirname, join } from 'node:path';
import type { Disk } from '../disk/disk.js';
import type { SegmentFileSpec } from '../log/segment-file.js';
import {
  SEGMENT_HEADER_SIZE,
  STREAM_MAGIC,
  offsetIndexName,
  streamSegmentName,
  timeIndexName,
  type SegmentSummary,
} from './stream-format.js';
import { SparseIndex } from './stream-index.js';
import { noteInSummary } from './segment-summary.js';

/**
 * One segment of a stream as the log knows it in memory: where its records are, what
 * offsets and times they cover, and its sparse index. Readers hold a reference while they
 * read it; `removed` tells them retention or a compaction swap took it away (they re-seek by
 * offset then — a path may now name a different file).
 */
export class StreamSegment {
  readonly base: number;
  readonly dir: string;
  readonly disk: Disk;
  index: SparseIndex;
  firstOffset = -1;
  lastOffset = -1;
  firstTimestamp = 0;
  lastTimestamp = 0;
  records = 0;
  /** offset of the first record of the last group commit in this segment, or -1 */
  lastChunkStart = -1;
  /** bytes placed (header included): the append position */
  size = SEGMENT_HEADER_SIZE;
  /** bytes readers may read: written, and synced in fsync mode (never past it: osiris#73) */
  readableEnd = SEGMENT_HEADER_SIZE;
  /** nothing more will be appended */
  sealed = false;
  /** gone (retention, compaction swap, stream deleted) */
  removed = false;
  /**
   * While a compaction swap completes, the file is still at `<base>.ws.swap` and `path` may
   * name the old input: readers try this first (cleaner.ts).
   */
  pendingPath: string | null = null;

  constructor(disk: Disk, dir: string, base: number) {
    this.disk = disk;
    this.dir = dir;
    this.base = base;
    this.index = new SparseIndex(base);
  }

  get path(): string {
    return join(this.dir, streamSegmentName(this.base));
  }

  /**
   * The file the log engine creates for it. With `syncParent`, the directory's parent is
   * synced too: a stream's directory is made without a sync (declare is synchronous), so its
   * first segment makes the directory's name durable as well.
   */
  fileSpec(queueId: number, syncParent: boolean): SegmentFileSpec {
    const syncDirs = syncParent ? [this.dir, dirname(this.dir)] : [this.dir];
    return { path: this.path, number: this.base, ownerId: queueId, magic: STREAM_MAGIC, syncDirs };
  }

  /** Record an appended (or scanned) record. */
  noteRecord(offset: number, position: number, length: number, timestamp: number, chunkStart: boolean): void {
    noteInSummary(this, offset, timestamp, chunkStart);
    this.index.note(offset, position, timestamp);
    this.size = position + length;
  }

  summary(): SegmentSummary {
    return {
      base: this.base,
      firstOffset: this.firstOffset,
      lastOffset: this.lastOffset,
      firstTimestamp: this.firstTimestamp,
      lastTimestamp: this.lastTimestamp,
      records: this.records,
      dataEnd: this.readableEnd,
      lastChunkStart: this.lastChunkStart,
    };
  }

  applySummary(s: SegmentSummary): void {
    this.firstOffset = s.firstOffset;
    this.lastOffset = s.lastOffset;
    this.firstTimestamp = s.firstTimestamp;
    this.lastTimestamp = s.lastTimestamp;
    this.records = s.records;
    this.lastChunkStart = s.lastChunkStart;
    this.size = this.readableEnd = s.dataEnd;
  }

  /**
   * Write the `.wi` and `.wt` files of a sealed segment (temp file + rename). They are
   * caches: not synced — a lost or stale one is rebuilt by a scan at the next start.
   */
  async writeIndexFiles(): Promise<void> {
    const wi = join(this.dir, offsetIndexName(this.base));
    const wt = join(this.dir, timeIndexName(this.base));
    const disk = this.disk;
    await disk.writeFile(`${wt}.tmp`, this.index.encodeTimeFile());
    await disk.rename(`${wt}.tmp`, wt);
    await disk.writeFile(`${wi}.tmp`, this.index.encodeOffsetFile(this.summary()));
    await disk.rename(`${wi}.tmp`, wi);
  }

  /** Unlink the segment and its index files (readers with the file open keep reading it). */
  async unlinkFiles(): Promise<void> {
    for (const name of [streamSegmentName(this.base), offsetIndexName(this.base), timeIndexName(this.base)]) {
      await this.disk.unlink(join(this.dir, name)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  }
}
