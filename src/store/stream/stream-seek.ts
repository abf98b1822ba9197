import { readAt } from '../log/read-at.js';
import type { StreamSegment } from './stream-segment.js';
import { SEGMENT_HEADER_SIZE } from './stream-format.js';

/** Where a reader starts: a segment and a file position at or before the record it wants. */
export interface StreamPosition {
  segment: StreamSegment;
  position: number;
}

/** Index of the segment holding `offset` (the last one whose base is ≤ it), or 0. */
export function segmentIndexFor(segments: readonly StreamSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].base <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A position at or before the first record with an offset ≥ `offset` (binary search, then the sparse index). */
export function positionForOffset(segments: readonly StreamSegment[], offset: number): StreamPosition {
  const segment = segments[segmentIndexFor(segments, offset)];
  const p = segment.index.positionFor(offset);
  return { segment, position: p < 0 ? SEGMENT_HEADER_SIZE : p };
}

/**
 * A position at or before the first record with a timestamp ≥ `timestamp`: the first segment
 * whose last record is that recent (timestamps never go back in a stream), then its time index.
 */
export function positionForTimestamp(segments: readonly StreamSegment[], timestamp: number): StreamPosition {
  let lo = 0;
  let hi = segments.length - 1;
  let found = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = segments[mid];
    if (s.records > 0 && s.lastTimestamp >= timestamp) {
      found = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  const segment = segments[found];
  const before = segment.index.offsetBefore(timestamp);
  if (before < 0) return { segment, position: SEGMENT_HEADER_SIZE };
  const p = segment.index.positionFor(before);
  return { segment, position: p < 0 ? SEGMENT_HEADER_SIZE : p };
}

/** Told the outcome of a chunk read; `bytes` may be less than asked at the end of readable data. */
export interface StreamReadListener {
  onStreamRead(token: number, error: Error | null, segment: StreamSegment, position: number, buf: Buffer, bytes: number): void;
}

/** Error for a read that raced with the removal of its segment: the reader re-seeks by offset. */
export class SegmentGoneError extends Error {
  constructor(base: number) {
    super(`stream segment ${base} was removed`);
    this.name = 'SegmentGoneError';
  }
}

/**
 * Read up to `maxBytes` of `segment` from `position`, never past what is readable (written,
 * and synced in fsync mode). One positional read per chunk: the caller decodes many records
 * from it. A segment removed meanwhile (retention, compaction swap) reports SegmentGoneError:
 * the path may already name the compacted file, so nothing read through it may be used.
 */
export function readChunk(segment: StreamSegment, position: number, maxBytes: number, listener: StreamReadListener, token: number): void {
  const bytes = Math.min(maxBytes, segment.readableEnd - position);
  const buf = Buffer.allocUnsafe(Math.max(0, bytes));
  if (bytes <= 0 || segment.removed) {
    const e = segment.removed ? new SegmentGoneError(segment.base) : null;
    setImmediate(() => listener.onStreamRead(token, e, segment, position, buf, 0));
    return;
  }
  openSegment(segment, (openError, fd) => {
    if (openError || segment.removed) {
      if (!openError) segment.disk.fdClose(fd, noop);
      const e = segment.removed || openError?.code === 'ENOENT' ? new SegmentGoneError(segment.base) : openError;
      listener.onStreamRead(token, e, segment, position, buf, 0);
      return;
    }
    readAt(segment.disk, fd, buf, bytes, position, (readError, done) => {
      segment.disk.fdClose(fd, noop);
      listener.onStreamRead(token, readError, segment, position, buf, done);
    });
  });
}

/**
 * Open a segment for reading: during a compaction swap its file is at `pendingPath` until
 * renamed to `path` (which until then names the old input), so try that first; the rename
 * is atomic, so when it is already gone the file is at `path`.
 */
function openSegment(segment: StreamSegment, cb: (e: NodeJS.ErrnoException | null, fd: number) => void): void {
  const pending = segment.pendingPath;
  const disk = segment.disk;
  if (pending === null) return disk.fdOpen(segment.path, 'r', cb);
  disk.fdOpen(pending, 'r', (e, fd) => {
    if (e?.code === 'ENOENT') disk.fdOpen(segment.path, 'r', cb);
    else cb(e, fd);
  });
}

function noop(): void {}
