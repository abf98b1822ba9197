import { lsnOf } from './format.js';
import { checkFrame } from './log/frame-check.js';
import type { Journal } from './journal.js';
import { BodyRetention, LargeBody, LargeBodyWriter, PART_BYTES, decodePartList, partBytes, type BodySource } from './large-body.js';
import type { MessageReader } from './message-reader.js';
import type { StoreMetrics } from './metrics.js';
import type { SegmentTable } from './segment-table.js';

/** A queue entry, found by recovery, whose MSG names a body in parts. */
export interface RecoveredBodyEntry {
  queueId: number;
  seq: number;
  partList: Buffer;
  /** the MSG's location: entries of one message share it (and its retention) */
  key: number;
}

/**
 * The large bodies of one file store (large-body.ts): writers for bodies arriving, reads of
 * their parts, and which queue entries keep which body alive — every entry of the store whose
 * MSG names a body holds its retention until the entry leaves its queue.
 */
export class LargeBodies implements BodySource {
  readonly #segments: SegmentTable;
  readonly #journal: Journal;
  readonly #reader: MessageReader;
  readonly #metrics: StoreMetrics;
  /** queue id → seq → the retention of the body its MSG names */
  readonly #entries = new Map<number, Map<number, BodyRetention>>();

  constructor(segments: SegmentTable, journal: Journal, reader: MessageReader, metrics: StoreMetrics) {
    this.#segments = segments;
    this.#journal = journal;
    this.#reader = reader;
    this.#metrics = metrics;
  }

  /** whether a queue entry names a body in parts (the clean-shutdown snapshot does not record them) */
  get held(): boolean {
    return this.#entries.size > 0;
  }

  begin(id: number, size: number, onAppend: (bytes: number) => void): LargeBodyWriter {
    return new LargeBodyWriter(id, size, this.#journal, this.#segments, this, onAppend);
  }

  /** A MSG naming `body` went to these targets: each entry holds the body. */
  named(body: LargeBody, queueIds: ArrayLike<number>, seqs: ArrayLike<number>, count: number): void {
    for (let i = 0; i < count; i++) this.#hold(queueIds[i], seqs[i], body.retention);
  }

  /** The entry left its queue. */
  left(queueId: number, seq: number): void {
    const byQueue = this.#entries.get(queueId);
    const r = byQueue?.get(seq);
    if (r === undefined) return;
    byQueue!.delete(seq);
    if (byQueue!.size === 0) this.#entries.delete(queueId);
    r.release();
  }

  /** After a purge or deletion of the queue: release what left it. */
  sweep(queueId: number, isLive: (seq: number) => boolean): void {
    const byQueue = this.#entries.get(queueId);
    if (byQueue === undefined) return;
    for (const seq of [...byQueue.keys()]) if (!isLive(seq)) this.left(queueId, seq);
  }

  /** The body a MSG read back names (the entry's retention, shared with every copy of it). */
  bodyOf(queueId: number, seq: number, partList: Buffer): LargeBody | null {
    const list = decodePartList(partList);
    if (list === null) return null;
    let retention = this.#entries.get(queueId)?.get(seq);
    if (retention === undefined) {
      // a transient message paged out and named by nothing durable: held only by this object
      retention = new BodyRetention(this.#segments);
      for (let i = 0; i < list.parts.length; i += 3) retention.addSegment(list.parts[i]);
    }
    return new LargeBody(list.id, list.size, list.parts, retention, this);
  }

  /** After a scan: the entries whose MSG names a body hold it, as they did before the stop. */
  adopt(recovered: readonly RecoveredBodyEntry[]): void {
    const byKey = new Map<number, BodyRetention>();
    for (const e of recovered) {
      let r = byKey.get(e.key);
      if (r === undefined) {
        const list = decodePartList(e.partList);
        if (list === null) continue;
        r = new BodyRetention(this.#segments);
        for (let i = 0; i < list.parts.length; i += 3) r.addSegment(list.parts[i]);
        byKey.set(e.key, r);
      }
      this.#hold(e.queueId, e.seq, r);
    }
  }

  #hold(queueId: number, seq: number, r: BodyRetention): void {
    let byQueue = this.#entries.get(queueId);
    if (byQueue === undefined) this.#entries.set(queueId, (byQueue = new Map()));
    r.hold();
    byQueue.set(seq, r);
  }

  // ---- BodySource ------------------------------------------------------------------------------

  readParts(body: LargeBody, from: number, maxBytes: number, cb: (error: Error | null, chunks: Buffer[], next: number) => void): void {
    const p = body.parts;
    const n = body.partCount;
    if (from >= n) return void setImmediate(cb, null, [], n);
    const segment = p[from * 3];
    const start = p[from * 3 + 1];
    let end = start + p[from * 3 + 2];
    let next = from + 1;
    // neighbouring parts of one segment are read together (up to maxBytes)
    while (next < n && p[next * 3] === segment && p[next * 3 + 1] === end && end - start + p[next * 3 + 2] <= maxBytes) {
      end += p[next * 3 + 2];
      next++;
    }
    const info = this.#segments.ensure(segment);
    info.readers++;
    const read = (error: Error | null): void => {
      if (error) {
        info.readers--;
        return cb(error, [], from);
      }
      this.#reader.readRange(segment, start, end - start, (err, buf) => {
        info.readers--;
        if (err || buf === null) return cb(err ?? new Error('body part unreadable'), [], from);
        const chunks: Buffer[] = [];
        for (let k = from, at = 0; k < next; k++) {
          const length = p[k * 3 + 2];
          const bytes = checkFrame(buf, at, at + length, length) === null ? partBytes(buf, at, length, body.id, k * PART_BYTES) : null;
          if (bytes === null) {
            this.#metrics.readErrors++;
            return cb(new Error(`body ${body.id}: part ${k} in segment ${segment} at ${p[k * 3 + 1]} failed its checksum`), [], from);
          }
          chunks.push(bytes);
          at += length;
        }
        this.#metrics.checksummedBytes += end - start;
        cb(null, chunks, next);
      });
    };
    // never read past what the journal wrote (the parts of a body just finished may be in this turn's batch)
    const lsn = lsnOf(segment, end);
    if (lsn > this.#journal.writtenLsn) this.#journal.whenWritten(lsn, read);
    else read(null);
  }
}
