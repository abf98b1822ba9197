/** What a stream segment's offset index header says about its records (stream-format.ts `SegmentSummary`). */
export interface SummaryCounts {
  records: number;
  firstOffset: number;
  lastOffset: number;
  firstTimestamp: number;
  lastTimestamp: number;
  /** offset of the first record of the last group commit, or -1 */
  lastChunkStart: number;
}

/**
 * Count one record, in offset order, into a segment's summary: for a segment being appended
 * to or scanned (stream-segment.ts) and for a segment the compaction worker writes
 * (cleaner-worker.ts). It uses no outer name and imports nothing, because the worker receives
 * it as source text with its program.
 */
export function noteInSummary(s: SummaryCounts, offset: number, timestamp: number, chunkStart: boolean): void {
  if (s.records === 0) {
    s.firstOffset = offset;
    s.firstTimestamp = timestamp;
  }
  s.records++;
  s.lastOffset = offset;
  s.lastTimestamp = timestamp;
  if (chunkStart) s.lastChunkStart = offset;
}
