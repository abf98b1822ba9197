import type { Disk } from '../../store/disk/disk.js';
import { encodeOps, fileOps, opSize, type Op } from './ops.js';
import { encodeFrame, FrameType } from './wire.js';

/** A whole file the leader renamed into place: read when the batch is sent, not on the write path. */
interface DeferredFile {
  kind: 'deferred';
  path: string;
  abs: string;
}

/** One frame's bookkeeping, for lag: its last op's position, the bytes shipped before it, when. */
interface Sent {
  position: number;
  bytesBefore: number;
  at: number;
}

/** Sends a frame to one follower session. */
export type FrameSink = (frame: Buffer, position: number) => void;

const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const MAX_HISTORY = 100_000;

/**
 * The leader's op log: every change to the data directory (replicating-disk.ts) and to
 * meta.db (metadata-log.ts), numbered in the order it happened (its position). What was
 * enqueued in one event-loop turn is encoded once, as one or more OPS frames (≤ 8 MiB each),
 * and the same buffers go to every follower session; with no session attached, nothing is
 * encoded at all. The position still moves: the confirm gate waits for acks of it.
 */
export class Outbox {
  readonly #disk: Disk;
  #position = 0;
  #sentPosition = 0;
  #sentBytes = 0;
  #pending: (Op | DeferredFile)[] = [];
  #scheduled = false;
  #flushing: Promise<void> | null = null;
  readonly #sinks = new Set<FrameSink>();
  readonly #history: Sent[] = [];

  constructor(disk: Disk) {
    this.#disk = disk;
  }

  /** the last op enqueued */
  get position(): number {
    return this.#position;
  }
  /** some follower session is attached (live or catching up) */
  get attached(): boolean {
    return this.#sinks.size > 0;
  }

  /** the last op handed to the sessions */
  get sentPosition(): number {
    return this.#sentPosition;
  }

  enqueue(op: Op): number {
    this.#pending.push(op);
    return this.#advance();
  }

  /** The whole file at `abs` (shipped as `path`) as it is when the batch goes out. */
  enqueueFile(path: string, abs: string): number {
    this.#pending.push({ kind: 'deferred', path, abs });
    return this.#advance();
  }

  attach(sink: FrameSink): void {
    this.#sinks.add(sink);
  }

  detach(sink: FrameSink): void {
    this.#sinks.delete(sink);
  }

  /** Bytes shipped after `position` and the age of the oldest frame after it (seconds). */
  lagAfter(position: number, now: number): { bytes: number; seconds: number } {
    const h = this.#history;
    if (position >= this.#sentPosition || h.length === 0) return { bytes: 0, seconds: 0 };
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid].position <= position) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= h.length) return { bytes: 0, seconds: 0 };
    return { bytes: this.#sentBytes - h[lo].bytesBefore, seconds: Math.max(0, (now - h[lo].at) / 1000) };
  }

  /** Forget lag history up to `position` (every follower acked it). */
  trimHistory(position: number): void {
    let n = 0;
    while (n < this.#history.length - 1 && this.#history[n].position <= position) n++;
    if (n > 0) this.#history.splice(0, n);
  }

  #advance(): number {
    this.#position++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurn);
    }
    return this.#position;
  }

  readonly #onTurn = (): void => {
    this.#scheduled = false;
    // assigned before it can finish: #flush may run to its end without awaiting
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = null));
  };

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const items = this.#pending;
      this.#pending = [];
      const end = this.#sentPosition + items.length;
      if (this.#sinks.size === 0) {
        this.#sentPosition = end;
        continue;
      }
      let batch: Op[] = [];
      let bytes = 0;
      let at = this.#sentPosition;
      for (const item of items) {
        at++;
        const ops: Op[] = item.kind === 'deferred' ? await this.#read(item) : [item];
        for (const op of ops) {
          batch.push(op);
          bytes += opSize(op);
        }
        if (bytes >= MAX_BATCH_BYTES) {
          this.#send(at, batch, bytes);
          batch = [];
          bytes = 0;
        }
      }
      this.#send(end, batch, bytes);
    }
  }

  #send(position: number, ops: Op[], bytes: number): void {
    this.#sentPosition = position;
    // a frame without ops still carries the position (ops dropped: a file gone before it was read)
    const frame = encodeFrame(FrameType.OPS, encodeOps(position, ops));
    this.#history.push({ position, bytesBefore: this.#sentBytes, at: Date.now() });
    this.#sentBytes += bytes;
    if (this.#history.length > MAX_HISTORY) this.#history.splice(0, this.#history.length - MAX_HISTORY);
    for (const sink of this.#sinks) sink(frame, position);
  }

  async #read(d: DeferredFile): Promise<Op[]> {
    try {
      return fileOps(d.path, await this.#disk.readFile(d.abs));
    } catch {
      // gone since (an unlink of it follows in the log)
      return [];
    }
  }
}
