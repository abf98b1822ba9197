/**
 * A run of up to CHUNK_CAPACITY index entries of one queue, struct-of-arrays over one
 * ArrayBuffer (so a chunk spills and loads with one write/read and no per-entry objects).
 *
 * Layout for capacity c (c a multiple of 8, so every view is aligned):
 *   [seq f64 × c][expiresAt f64 × c][segment u32 × c][offset u32 × c][length u32 × c]
 *   [bodySize u32 × c][targets u16 × c][priority u8 × c][flags u8 × c]      = 36 bytes/entry
 */
export const CHUNK_CAPACITY = 4096;
export const ENTRY_BYTES = 36;
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

export class IndexChunk {
  capacity: number;
  buffer: ArrayBuffer | null = null;
  seq!: Float64Array;
  expiresAt!: Float64Array;
  segment!: Uint32Array;
  offset!: Uint32Array;
  length!: Uint32Array;
  bodySize!: Uint32Array;
  targets!: Uint16Array;
  priority!: Uint8Array;
  flags!: Uint8Array;
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
    const c = this.capacity;
    this.buffer = buffer;
    this.seq = new Float64Array(buffer, 0, c);
    this.expiresAt = new Float64Array(buffer, 8 * c, c);
    this.segment = new Uint32Array(buffer, 16 * c, c);
    this.offset = new Uint32Array(buffer, 20 * c, c);
    this.length = new Uint32Array(buffer, 24 * c, c);
    this.bodySize = new Uint32Array(buffer, 28 * c, c);
    this.targets = new Uint16Array(buffer, 32 * c, c);
    this.priority = new Uint8Array(buffer, 34 * c, c);
    this.flags = new Uint8Array(buffer, 35 * c, c);
  }

  detach(): void {
    this.buffer = null;
    const empty = new Float64Array(0);
    this.seq = this.expiresAt = empty;
    const e32 = new Uint32Array(0);
    this.segment = this.offset = this.length = this.bodySize = e32;
    this.targets = new Uint16Array(0);
    this.priority = this.flags = new Uint8Array(0);
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
    const old = this;
    const src = {
      seq: old.seq,
      expiresAt: old.expiresAt,
      segment: old.segment,
      offset: old.offset,
      length: old.length,
      bodySize: old.bodySize,
      targets: old.targets,
      priority: old.priority,
      flags: old.flags,
    };
    const count = old.count;
    this.capacity = capacity;
    this.attach(new ArrayBuffer(capacity * ENTRY_BYTES));
    // keep only live entries when shrinking; everything when growing
    let j = 0;
    for (let i = old.head; i < count; i++) {
      if ((src.flags[i] & FLAG_LIVE) === 0) continue;
      this.seq[j] = src.seq[i];
      this.expiresAt[j] = src.expiresAt[i];
      this.segment[j] = src.segment[i];
      this.offset[j] = src.offset[i];
      this.length[j] = src.length[i];
      this.bodySize[j] = src.bodySize[i];
      this.targets[j] = src.targets[i];
      this.priority[j] = src.priority[i];
      this.flags[j] = src.flags[i];
      j++;
    }
    this.count = j;
    this.head = 0;
    if (j > 0) this.firstSeq = this.seq[0];
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
