import { join } from 'node:path';
import { decodeSegmentHeader } from '../format.js';
import { SegmentFileReader } from '../log/segment-file.js';
import { scanRecords } from '../log/record-scan.js';
import type { Disk } from '../disk/disk.js';
import { realDisk } from '../disk/real-disk.js';
import {
  STREAM_MAGIC,
  STREAM_SEGMENT_SUFFIX,
  SEGMENT_HEADER_SIZE,
  StreamRecordView,
  decodeOffsetIndexHeader,
  offsetIndexName,
  parseStreamFileName,
  STREAM_RECORD_TYPE,
  decodeStreamRecord,
  isStreamRecordType,
  streamSegmentName,
  timeIndexName,
  FLAG_CHUNK_START,
} from './stream-format.js';
import { StreamSegment } from './stream-segment.js';
import { StreamLog, type StreamLogOptions } from './stream-log.js';

/** What opening a stream found and did (logged, and kept on the log for tests and operators). */
export interface StreamRecoveryReport {
  segments: number;
  /** segments whose index files were missing or stale, so they were scanned */
  scanned: number;
  /** torn tail cut from the last segment */
  truncatedBytes: number;
  /** unreadable bytes at the end of an older segment (bit rot): reported, not read */
  damaged: { base: number; offset: number; bytes: number; reason: string }[];
  removedFiles: string[];
  /** interrupted compaction swaps finished (or undone) */
  swapsCompleted: number;
  millis: number;
}

/**
 * Open a stream's directory: finish or undo an interrupted compaction swap, load each sealed
 * segment from its index files when they describe it exactly, otherwise scan it (verifying
 * every checksum) and rewrite them; cut a torn tail off the last segment (point-in-time, as
 * the journal), drop a header-only last segment (a crash while creating it), set aside a
 * segment with a bad header, ignore names that are not ours. Appends then go to a new segment.
 */
export async function openStreamLog(options: StreamLogOptions): Promise<StreamLog> {
  const t0 = performance.now();
  const report: StreamRecoveryReport = { segments: 0, scanned: 0, truncatedBytes: 0, damaged: [], removedFiles: [], swapsCompleted: 0, millis: 0 };
  const dir = options.dir;
  const disk = options.disk ?? realDisk;
  await disk.mkdir(dir);
  let names = await disk.readdir(dir);
  if (await recoverSwaps(disk, dir, names, report)) names = await disk.readdir(dir);
  for (const n of names) {
    if (n.endsWith('.tmp')) {
      await disk.unlink(join(dir, n)).catch(() => undefined);
      report.removedFiles.push(n);
    }
  }
  const bases = names
    .map((n) => parseStreamFileName(n, STREAM_SEGMENT_SUFFIX))
    .filter((b) => b >= 0)
    .sort((a, b) => a - b);
  const segments: StreamSegment[] = [];
  const reader = new SegmentFileReader(disk);
  for (let i = 0; i < bases.length; i++) {
    const last = i === bases.length - 1;
    const s = new StreamSegment(disk, dir, bases[i]);
    const path = s.path;
    const size = await disk.size(path);
    // index files are written only when a segment is sealed (synced), so they may be trusted
    // for the last segment too, when they describe exactly its size (a clean stop)
    if (await loadIndexFiles(s, size)) {
      s.sealed = true;
      segments.push(s);
      continue;
    }
    const buf = await reader.read(path);
    const header = decodeSegmentHeader(buf, STREAM_MAGIC);
    if (typeof header === 'string' || header.segment !== s.base || header.journalId !== options.queueId) {
      if (last && buf.length <= SEGMENT_HEADER_SIZE) {
        await removeSegmentFiles(disk, dir, s.base, report);
        continue;
      }
      await disk.rename(path, `${path}.corrupt`);
      report.damaged.push({ base: s.base, offset: 0, bytes: buf.length, reason: typeof header === 'string' ? header : 'header names another stream' });
      continue;
    }
    report.scanned++;
    const end = scanInto(s, buf, options.maxRecordSize, report, last);
    if (end < buf.length && last) {
      // point-in-time: everything after the first bad record of the last segment was never committed
      await disk.truncate(path, end);
      report.truncatedBytes += buf.length - end;
    }
    s.size = s.readableEnd = end;
    if (s.records === 0) {
      await removeSegmentFiles(disk, dir, s.base, report);
      continue;
    }
    s.sealed = true;
    await s.writeIndexFiles();
    segments.push(s);
  }
  if (report.truncatedBytes > 0 || report.removedFiles.length > 0) await disk.syncDirectory(dir);
  let next = 0;
  for (const s of segments) next = Math.max(next, s.lastOffset + 1, s.base);
  report.segments = segments.length;
  report.millis = Math.round(performance.now() - t0);
  const log = new StreamLog(options, segments, next);
  log.recovery = report;
  if (report.truncatedBytes > 0 || report.damaged.length > 0 || report.swapsCompleted > 0) {
    options.log?.('warn', 'stream recovered with repairs', { queueId: options.queueId, ...report });
  }
  return log;
}

/** Load a sealed segment's summary and sparse index from `.wi`/`.wt` if they describe exactly `size` bytes. */
async function loadIndexFiles(s: StreamSegment, size: number): Promise<boolean> {
  try {
    const wi = await s.disk.readFile(join(s.dir, offsetIndexName(s.base)));
    const wt = await s.disk.readFile(join(s.dir, timeIndexName(s.base)));
    const summary = decodeOffsetIndexHeader(wi);
    if (!summary || summary.base !== s.base || summary.dataEnd !== size || summary.records === 0) return false;
    if (!s.index.load(wi, wt)) return false;
    s.applySummary(summary);
    return true;
  } catch {
    return false;
  }
}

/** Walk the records of a whole segment into `s` (index, summary) with the log engine's scan. @returns where the valid prefix ends */
function scanInto(s: StreamSegment, buf: Buffer, maxRecordSize: number, report: StreamRecoveryReport, last: boolean): number {
  const view = new StreamRecordView();
  let prevOffset = -1;
  const result = scanRecords(buf, SEGMENT_HEADER_SIZE, { maxRecordSize, knownType: isStreamRecordType, salvage: false }, (b, rec) => {
    if (rec.type !== STREAM_RECORD_TYPE) return null; // optional: skipped
    const problem = decodeStreamRecord(b, rec.offset, view) ?? (view.offset <= prevOffset ? 'offset out of order' : null);
    if (problem !== null) return problem;
    s.noteRecord(view.offset, rec.offset, rec.totalLength, view.timestamp, (view.flags & FLAG_CHUNK_START) !== 0);
    prevOffset = view.offset;
    return null;
  });
  // an older segment was synced before the next one was made: its damage is bit rot, reported
  // and not read past (a stream keeps offsets contiguous, so nothing after it is salvaged)
  if (result.stop !== null && !last) report.damaged.push({ base: s.base, offset: result.stop.offset, bytes: result.stop.length, reason: result.stop.reason });
  return result.validEnd;
}

async function removeSegmentFiles(disk: Disk, dir: string, base: number, report: StreamRecoveryReport): Promise<void> {
  for (const n of [streamSegmentName(base), offsetIndexName(base), timeIndexName(base)]) {
    try {
      await disk.unlink(join(dir, n));
      report.removedFiles.push(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/**
 * Finish or undo compaction swaps a stop interrupted (the protocol is in cleaner-worker.ts):
 * - `.ws.cleaned` present: the swap never committed — delete it and its `.swapinfo`;
 * - `.ws.swap` present: committed — delete the inputs, rename it to `.ws`;
 * - `.swapinfo` alone: the rename happened — delete any input left, except the output.
 * @returns whether anything was done
 */
export async function recoverSwaps(disk: Disk, dir: string, names: string[], report: StreamRecoveryReport): Promise<boolean> {
  const present = new Set(names);
  let changed = false;
  for (const n of names) {
    if (!n.endsWith('.swapinfo')) continue;
    const base = Number(n.slice(0, 20));
    const cleaned = `${streamSegmentName(base)}.cleaned`;
    const swap = `${streamSegmentName(base)}.swap`;
    changed = true;
    report.swapsCompleted++;
    if (present.has(cleaned)) {
      await disk.unlink(join(dir, cleaned)).catch(() => undefined);
      await disk.unlink(join(dir, n));
      continue;
    }
    let info: { inputs: number[]; output: number | null };
    try {
      info = JSON.parse((await disk.readFile(join(dir, n))).toString('utf8')) as typeof info;
    } catch {
      // a torn swapinfo means the worker died before renaming anything: nothing committed
      await disk.unlink(join(dir, n));
      continue;
    }
    const hasSwap = present.has(swap);
    for (const b of info.inputs) {
      if (b === info.output && !hasSwap) continue;
      for (const f of [streamSegmentName(b), offsetIndexName(b), timeIndexName(b)]) await disk.unlink(join(dir, f)).catch(() => undefined);
    }
    await disk.syncDirectory(dir);
    if (hasSwap) {
      await disk.rename(join(dir, swap), join(dir, streamSegmentName(base)));
      await disk.syncDirectory(dir);
    }
    await disk.unlink(join(dir, n));
  }
  for (const n of names) {
    // a `.cleaned` without its swapinfo: the worker died before committing
    if (n.endsWith('.ws.cleaned') && !present.has(`${n.slice(0, 20)}.swapinfo`)) {
      await disk.unlink(join(dir, n)).catch(() => undefined);
      changed = true;
    }
  }
  return changed;
}
