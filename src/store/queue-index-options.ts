import type { Disk } from './disk/disk.js';
import type { StoreMetrics } from './metrics.js';

/** Where an index tells the segment table about references it gains and loses. */
export interface LivenessSink {
  retain(segment: number, refs: number, bytes: number): void;
  release(segment: number, refs: number, bytes: number): void;
}

export interface QueueIndexOptions {
  /** chunks kept in memory before the middle of the queue is spilled (Infinity: never) */
  maxResidentChunks: number;
  /** the spill file's path (created on first spill) */
  spillPath: string;
  /** where the spill file lives; default the real disk */
  disk?: Disk;
  metrics: StoreMetrics;
}
