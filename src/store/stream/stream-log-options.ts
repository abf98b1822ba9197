import type { Disk } from '../disk/disk.js';
import type { AppendObserver } from '../log/append-observer.js';
import type { Durability } from '../log/group-commit.js';

/** How a stream log (stream-log.ts) is set up. */
export interface StreamLogOptions {
  dir: string;
  queueId: number;
  durability: Durability;
  /** x-stream-max-segment-size-bytes */
  maxSegmentSize: number;
  /** larger records are corruption when scanned */
  maxRecordSize: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
  /** the file I/O; default the real disk */
  disk?: Disk;
  /** told once when a write or fdatasync failed and the stream became read-only */
  onFailure?: (error: Error) => void;
  /** sees every write and durability point of the node's logs (append-observer.ts) */
  appendObserver?: AppendObserver | null;
}

/** Told after each group commit: records below `committedOffset` are durable and readable. */
export interface StreamCommitListener {
  streamCommitted(committedOffset: number): void;
  /** compaction replaced the segments up to `upToOffset`: cached copies of them are stale */
  streamCompacted(upToOffset: number): void;
}
