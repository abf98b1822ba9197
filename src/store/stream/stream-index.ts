import {
  INDEX_INTERVAL_BYTES,
  OFFSET_ENTRY_SIZE,
  OFFSET_INDEX_HEADER,
  TIME_ENTRY_SIZE,
  TIME_INDEX_HEADER,
  decodeTimeIndexHeader,
  encodeOffsetIndexHeader,
  encodeTimeIndexHeader,
  type SegmentSummary,
} from './stream-format.js';
import { readU64, writeU64 } from '../format.js';

/**
 * The sparse offset and time indexes of one segment, in memory (typed arrays that grow by
 * doubling): an offset entry about every 4 KiB of records (Kafka's index.interval.bytes),
 * and a time entry beside it when the timestamp moved on. A seek is a binary search here,
 * then a scan of at most ~4 KiB of records — logarithmic in the stream size, not linear.
 */
export class SparseIndex {
  /** offset − base of each offset entry */
  #rel = new Uint32Array(64);
  /** file position of each offset entry */
  #pos = new Uint32Array(64);
  #n = 0;
  #tsTime = new Float64Array(16);
  #tsRel = new Uint32Array(16);
  #tn = 0;
  #lastIndexedPos = -INDEX_INTERVAL_BYTES;
  readonly base: number;

  constructor(base: number) {
    this.base = base;
  }

  get entries(): number {
    return this.#n;
  }
  get timeEntries(): number {
    return this.#tn;
  }

  /** Note a record at `position`; it gets an entry when ~4 KiB passed since the last one. */
  note(offset: number, position: number, timestamp: number): void {
    if (position - this.#lastIndexedPos < INDEX_INTERVAL_BYTES) return;
    this.#lastIndexedPos = position;
    const rel = offset - this.base;
    if (this.#n === this.#rel.length) {
      this.#rel = grow32(this.#rel);
      this.#pos = grow32(this.#pos);
    }
    this.#rel[this.#n] = rel;
    this.#pos[this.#n] = position;
    this.#n++;
    if (this.#tn > 0 && this.#tsTime[this.#tn - 1] >= timestamp) return;
    if (this.#tn === this.#tsTime.length) {
      const t = new Float64Array(this.#tsTime.length * 2);
      t.set(this.#tsTime);
      this.#tsTime = t;
      this.#tsRel = grow32(this.#tsRel);
    }
    this.#tsTime[this.#tn] = timestamp;
    this.#tsRel[this.#tn] = rel;
    this.#tn++;
  }

  /** File position to start scanning from for `offset` (the last entry at or below it), or -1. */
  positionFor(offset: number): number {
    const rel = offset - this.base;
    let lo = 0;
    let hi = this.#n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#rel[mid] <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? -1 : this.#pos[found];
  }

  /** An offset to start scanning from for the first record at or after `timestamp` (the last entry before it), or -1. */
  offsetBefore(timestamp: number): number {
    let lo = 0;
    let hi = this.#tn - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#tsTime[mid] < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? -1 : this.base + this.#tsRel[found];
  }

  /** The `.wi` file: header with the segment summary, then the entries. */
  encodeOffsetFile(summary: SegmentSummary): Buffer {
    const b = Buffer.allocUnsafe(OFFSET_INDEX_HEADER + this.#n * OFFSET_ENTRY_SIZE);
    encodeOffsetIndexHeader(summary).copy(b, 0);
    let p = OFFSET_INDEX_HEADER;
    for (let i = 0; i < this.#n; i++, p += OFFSET_ENTRY_SIZE) {
      b.writeUInt32LE(this.#rel[i], p);
      b.writeUInt32LE(this.#pos[i], p + 4);
    }
    return b;
  }

  /** The `.wt` file. */
  encodeTimeFile(): Buffer {
    const b = Buffer.allocUnsafe(TIME_INDEX_HEADER + this.#tn * TIME_ENTRY_SIZE);
    encodeTimeIndexHeader(this.base, this.#tn).copy(b, 0);
    let p = TIME_INDEX_HEADER;
    for (let i = 0; i < this.#tn; i++, p += TIME_ENTRY_SIZE) {
      writeU64(b, p, this.#tsTime[i]);
      b.writeUInt32LE(this.#tsRel[i], p + 8);
    }
    return b;
  }

  /**
   * Load entries from index files already checked by their headers. @returns false when the
   * sizes do not agree with the headers (then the caller rebuilds by scanning)
   */
  load(offsetFile: Buffer, timeFile: Buffer): boolean {
    const n = (offsetFile.length - OFFSET_INDEX_HEADER) / OFFSET_ENTRY_SIZE;
    const tn = decodeTimeIndexHeader(timeFile, this.base);
    if (!Number.isInteger(n) || n < 0 || tn < 0 || timeFile.length !== TIME_INDEX_HEADER + tn * TIME_ENTRY_SIZE) return false;
    this.#rel = new Uint32Array(Math.max(16, n));
    this.#pos = new Uint32Array(Math.max(16, n));
    for (let i = 0, p = OFFSET_INDEX_HEADER; i < n; i++, p += OFFSET_ENTRY_SIZE) {
      this.#rel[i] = offsetFile.readUInt32LE(p);
      this.#pos[i] = offsetFile.readUInt32LE(p + 4);
      if (i > 0 && (this.#rel[i] < this.#rel[i - 1] || this.#pos[i] <= this.#pos[i - 1])) return false;
    }
    this.#n = n;
    this.#lastIndexedPos = n > 0 ? this.#pos[n - 1] : -INDEX_INTERVAL_BYTES;
    this.#tsTime = new Float64Array(Math.max(16, tn));
    this.#tsRel = new Uint32Array(Math.max(16, tn));
    for (let i = 0, p = TIME_INDEX_HEADER; i < tn; i++, p += TIME_ENTRY_SIZE) {
      this.#tsTime[i] = readU64(timeFile, p);
      this.#tsRel[i] = timeFile.readUInt32LE(p + 8);
    }
    this.#tn = tn;
    return true;
  }
}

function grow32(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}
