/** Counters of one stream log (plain fields bumped without allocation; see docs/streams.md). */
export interface StreamMetrics {
  records: number;
  /** message bodies appended */
  userBytes: number;
  /** record bytes written by appends */
  bytesWritten: number;
  writevCalls: number;
  flushes: number;
  fsyncs: number;
  segmentsCreated: number;
  writeErrors: number;
  retentionSegmentsDeleted: number;
  retentionBytesDeleted: number;
  compactionRuns: number;
  compactionBytesRead: number;
  compactionBytesWritten: number;
  compactionRecordsRemoved: number;
  /** ms since the epoch of the last successful compaction, 0 = never */
  compactionLastSuccess: number;
  /** set when the cleaner failed on this stream (it carries on with others; KIP-346) */
  uncleanable: string | null;
}

export function newStreamMetrics(): StreamMetrics {
  return {
    records: 0,
    userBytes: 0,
    bytesWritten: 0,
    writevCalls: 0,
    flushes: 0,
    fsyncs: 0,
    segmentsCreated: 0,
    writeErrors: 0,
    retentionSegmentsDeleted: 0,
    retentionBytesDeleted: 0,
    compactionRuns: 0,
    compactionBytesRead: 0,
    compactionBytesWritten: 0,
    compactionRecordsRemoved: 0,
    compactionLastSuccess: 0,
    uncleanable: null,
  };
}
