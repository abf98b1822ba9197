import { ENTRY_BYTES, INDEX_COLUMNS, attachColumns, gatherColumns, pickColumns, type IndexColumns } from './index-columns.js';

/**
 * A run of up to CHUNK_CAPACITY index entries of one queue, struct-of-arrays over one
 * ArrayBuffer (so a chunk spills and loads with one write/read and no per-entry objects),
 * laid out as the columns of index-columns.ts (capacity a multiple of 8, so every view is
 * aligned): 36 bytes per entry.
 */
export const CHUNK_CAPACITY = 4096;
export { ENTRY_BYTES };
export const MIN_CHUNK_CAPACITY = 16;

export const FLAG_LIVE = 1;
/** recovered after an unclean stop, or delivered before a clean one */
export const FLAG_REDELIVERED = 2;
/** handed to a consumer in this run (written as DELIVERED at a clean stop) */
export const FLAG_DELIVERED = 4;

/** Per-segment totals of a spilled chunk's live entries, to release them without loading it. */
export interface SegmentHistogram {
  segments: number[];
  refs: number[];
  bytes: number[];
}

/** the column fields (seq, segment, offset, …), set by `attach` */
export interface IndexChunk extends IndexColumns {}

export class IndexChunk {
  capacity: number;
  buffer: ArrayBuffer | null = null;
  /** filled slots */
  count = 0;
  /** positions before this one are all dead */
  head = 0;
  live = 0;
  liveBodyBytes = 0;
  /** entries ever flagged delivered or redelivered (chunks with none are skipped at a clean stop) */
  marked = 0;
  firstSeq = 0;
  lastSeq = 0;
  // spill state
  slot = -1;
  /** changed since it was last written to its slot */
  dirty = true;
  lastUse = 0;
  histogram: SegmentHistogram | null = null;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.attach(new ArrayBuffer(capacity * ENTRY_BYTES));
  }

  get resident(): boolean {
    return this.buffer !== null;
  }

  attach(buffer: ArrayBuffer): void {
    this.buffer = buffer;
    attachColumns(this, buffer, this.capacity);
  }

  detach(): void {
    this.buffer = null;
    const self = this as unknown as Record<string, unknown>;
    for (const c of INDEX_COLUMNS) self[c.name] = new c.array(0);
  }

  /**
   * Set every column of the entry at `i`: the one writer of an entry's nine values, for the
   * queue index (per message per queue) and recovery's replay (whose MSG copies are a chunk
   * too). Called only on chunks, so its property accesses stay monomorphic: through a
   * function shared with plain column objects the same writes cost ~5 % of the CPU of a
   * confirmed publish (bench/core-publish.mjs).
   */
  put(
    i: number,
    seq: number,
    segment: number,
    offset: number,
    length: number,
    bodySize: number,
    targets: number,
    priority: number,
    expiresAt: number,
    flags: number,
  ): void {
    this.seq[i] = seq;
    this.segment[i] = segment;
    this.offset[i] = offset;
    this.length[i] = length;
    this.bodySize[i] = bodySize;
    this.targets[i] = targets;
    this.priority[i] = priority;
    this.expiresAt[i] = expiresAt;
    this.flags[i] = flags;
  }

  /** bytes of entry data (what a spill writes) */
  get dataBytes(): number {
    return this.capacity * ENTRY_BYTES;
  }

  /** liveness bytes attributed to the entry at `i` */
  share(i: number): number {
    return Math.floor(this.length[i] / this.targets[i]);
  }

  /** position of `seq` among the filled slots, or -1 (binary search; seqs are increasing) */
  position(seq: number): number {
    let lo = this.head;
    let hi = this.count - 1;
    const s = this.seq;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = s[mid];
      if (v === seq) return mid;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** first position with seq > `seq` (or count) */
  positionAfter(seq: number): number {
    let lo = this.head;
    let hi = this.count;
    const s = this.seq;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Move to a new capacity (growing the tail chunk, or shrinking a sparse one to its live entries). */
  resize(capacity: number): void {
    const src = pickColumns(this);
    // keep only live entries when shrinking; everything when growing
    const live = new Uint32Array(this.count - this.head);
    let n = 0;
    for (let i = this.head; i < this.count; i++) if ((src.flags[i] & FLAG_LIVE) !== 0) live[n++] = i;
    this.capacity = capacity;
    this.attach(new ArrayBuffer(capacity * ENTRY_BYTES));
    gatherColumns(src, live, n, this);
    this.count = n;
    this.head = 0;
    if (n > 0) this.firstSeq = this.seq[0];
    this.dirty = true;
  }

  /** Totals per segment of the live entries (taken when the chunk spills). */
  computeHistogram(): SegmentHistogram {
    const h: SegmentHistogram = { segments: [], refs: [], bytes: [] };
    let lastSeg = -1;
    let k = -1;
    for (let i = this.head; i < this.count; i++) {
      if ((this.flags[i] & FLAG_LIVE) === 0) continue;
      const seg = this.segment[i];
      if (seg !== lastSeg) {
        k = h.segments.indexOf(seg);
        if (k < 0) {
          k = h.segments.length;
          h.segments.push(seg);
          h.refs.push(0);
          h.bytes.push(0);
        }
        lastSeg = seg;
      }
      h.refs[k]++;
      h.bytes[k] += this.share(i);
    }
    return h;
  }
}

export const nextCapacity = (n: number): number => {
  let c = MIN_CHUNK_CAPACITY;
  while (c < n) c *= 2;
  return Math.min(c, CHUNK_CAPACITY);
};
