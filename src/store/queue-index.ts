import {
  CHUNK_CAPACITY,
  ENTRY_BYTES,
  FLAG_DELIVERED,
  FLAG_LIVE,
  FLAG_REDELIVERED,
  IndexChunk,
  MIN_CHUNK_CAPACITY,
  nextCapacity,
} from './index-chunk.js';
import type { IndexColumns } from './index-columns.js';
import { chunkHolding, chunkIndexAfter, chunkMemory, keptWithin } from './chunk-search.js';
import { IndexSpillFile } from './index-spill.js';
import { realDisk } from './disk/real-disk.js';
import type { LivenessSink, QueueIndexOptions } from './queue-index-options.js';
import type { ReadPlan } from './read-plan.js';

export { ReadPlan } from './read-plan.js';

export type { LivenessSink, QueueIndexOptions } from './queue-index-options.js';

let useClock = 0;
const MARK_FLAGS = FLAG_DELIVERED | FLAG_REDELIVERED;

/**
 * The live entries of one durable queue, in seq order: for each, where its MSG record is
 * (segment, offset, length), its body size, priority, expiry and flags — 36 bytes per entry
 * in typed arrays (STORE.md §3.10). Chunks of 4,096 entries; beyond `maxResidentChunks`, the
 * least recently used chunks other than head and tail are spilled to a per-queue file, keeping
 * only their seq range, counts and per-segment totals in memory — so a backlog of any depth
 * costs a bounded amount of memory. A spilled chunk is read back (synchronously) only when
 * something needs its entries: a read reaching it, an ack or a compaction move in it.
 */
export class QueueIndex {
  readonly queueId: number;
  readonly #sink: LivenessSink;
  readonly #o: QueueIndexOptions;
  readonly #chunks: IndexChunk[] = [];
  #spill: IndexSpillFile | null = null;
  #length = 0;
  #bodyBytes = 0;
  /** highest seq ever appended (acks and purges never reach beyond it) */
  lastSeq = 0;
  #resident = 0;

  constructor(queueId: number, sink: LivenessSink, options: QueueIndexOptions) {
    this.queueId = queueId;
    this.#sink = sink;
    this.#o = options;
  }

  /** live entries */
  get length(): number {
    return this.#length;
  }
  /** body bytes of the live entries */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }
  get chunkCount(): number {
    return this.#chunks.length;
  }
  get residentChunks(): number {
    return this.#resident;
  }

  /** live entries held in memory / spilled, and the bytes of resident chunk arrays */
  memory(): { resident: number; spilled: number; bytes: number } {
    return chunkMemory(this.#chunks);
  }


  /** Add an entry at the tail; `seq` must be above every seq appended before. */
  append(seq: number, segment: number, offset: number, length: number, bodySize: number, targets: number, priority: number, expiresAt: number, flags: number): void {
    if (seq <= this.lastSeq) throw new RangeError(`queue ${this.queueId}: seq ${seq} is not above ${this.lastSeq}`);
    let c = this.#chunks.length > 0 ? this.#chunks[this.#chunks.length - 1] : null;
    if (c === null || c.count === c.capacity || !c.resident) c = this.#tailWithRoom(c, seq);
    const i = c.count++;
    c.put(i, seq, segment, offset, length, bodySize, targets, priority, expiresAt, flags | FLAG_LIVE);
    if ((flags & MARK_FLAGS) !== 0) c.marked++;
    c.lastSeq = seq;
    c.live++;
    c.liveBodyBytes += bodySize;
    c.dirty = true;
    this.lastSeq = seq;
    this.#length++;
    this.#bodyBytes += bodySize;
    this.#sink.retain(segment, 1, c.share(i));
  }

  /** The tail chunk once it has room for `seq`: grown, or a new one (kept out of `append`, which runs per message). */
  #tailWithRoom(tail: IndexChunk | null, seq: number): IndexChunk {
    if (tail === null || !tail.resident || tail.count === CHUNK_CAPACITY) {
      const c = new IndexChunk(MIN_CHUNK_CAPACITY);
      c.firstSeq = seq;
      this.#chunks.push(c);
      this.#resident++;
      this.#enforceResidency();
      return c;
    }
    tail.resize(nextCapacity(tail.capacity + 1));
    if (tail.count === 0) tail.firstSeq = seq;
    return tail;
  }

  /** Add the first `n` entries of `from` at the tail (recovery, snapshot load), in seq order. */
  appendAll(from: IndexColumns, n: number): void {
    const { seq, segment, offset, length, bodySize, targets, priority, expiresAt, flags } = from;
    for (let i = 0; i < n; i++) this.append(seq[i], segment[i], offset[i], length[i], bodySize[i], targets[i], priority[i], expiresAt[i], flags[i]);
  }

  /** the offset of the MSG record of the entry `remove` removed last */
  removedOffset = 0;

  /**
   * Remove a live entry (acked, expired, dropped…).
   * @returns the segment that held its MSG record (`removedOffset`: where), or -1 when it was not live
   */
  remove(seq: number): number {
    const k = this.#findIndex(seq);
    if (k < 0) return -1;
    const c = this.#chunks[k];
    const i = c.position(seq);
    if (i < 0 || (c.flags[i] & FLAG_LIVE) === 0) return -1;
    const segment = c.segment[i];
    this.removedOffset = c.offset[i];
    this.#kill(c, i);
    this.#afterRemoval(c, k);
    return segment;
  }

  isLive(seq: number): boolean {
    const c = this.#find(seq);
    if (c === null) return false;
    const i = c.position(seq);
    return i >= 0 && (c.flags[i] & FLAG_LIVE) !== 0;
  }

  /** Whether `seq` is live *and* its record is the one at (segment, offset). */
  isLiveAt(seq: number, segment: number, offset: number): boolean {
    const c = this.#find(seq);
    if (c === null) return false;
    const i = c.position(seq);
    return i >= 0 && (c.flags[i] & FLAG_LIVE) !== 0 && c.segment[i] === segment && c.offset[i] === offset;
  }

  /** Compaction moved the record of `seq`: point the entry at the copy. @returns false when not live there */
  relocate(seq: number, fromSegment: number, fromOffset: number, segment: number, offset: number, length: number, targets: number): boolean {
    const c = this.#find(seq);
    if (c === null) return false;
    const i = c.position(seq);
    if (i < 0 || (c.flags[i] & FLAG_LIVE) === 0 || c.segment[i] !== fromSegment || c.offset[i] !== fromOffset) return false;
    this.#sink.release(fromSegment, 1, c.share(i));
    c.segment[i] = segment;
    c.offset[i] = offset;
    c.length[i] = length;
    c.targets[i] = targets;
    c.dirty = true;
    this.#sink.retain(segment, 1, c.share(i));
    return true;
  }

  /** Flag a live entry as delivered (it comes back redelivered after a clean restart). */
  markDelivered(seq: number): void {
    const c = this.#find(seq);
    if (c === null) return;
    const i = c.position(seq);
    if (i >= 0 && (c.flags[i] & FLAG_LIVE) !== 0) {
      if ((c.flags[i] & MARK_FLAGS) === 0) c.marked++;
      c.flags[i] |= FLAG_DELIVERED;
      c.dirty = true;
    }
  }

  /**
   * Remove every live entry with seq ≤ `upTo` except those in `kept` (AMQP queue.purge leaves
   * delivered-unacked messages alone). @returns how many were removed
   */
  purge(upTo: number, kept: ReadonlySet<number>): number {
    let removed = 0;
    for (let k = 0; k < this.#chunks.length && this.#chunks[k].firstSeq <= upTo; ) {
      const c = this.#chunks[k];
      if (!c.resident && c.lastSeq <= upTo && !keptWithin(kept, c.firstSeq, c.lastSeq)) {
        removed += c.live;
        this.#dropSpilled(c);
        this.#dropChunk(k);
        continue;
      }
      this.#ensureResident(c);
      for (let i = c.head; i < c.count && c.seq[i] <= upTo; i++) {
        if ((c.flags[i] & FLAG_LIVE) !== 0 && !kept.has(c.seq[i])) {
          this.#kill(c, i);
          removed++;
        }
      }
      if (c.live === 0) {
        this.#dropChunk(k);
        continue;
      }
      this.#advanceHead(c);
      k++;
    }
    return removed;
  }

  /** Remove everything (queue deleted). @returns how many were removed */
  clear(): number {
    let removed = 0;
    for (const c of this.#chunks) {
      removed += c.live;
      if (!c.resident) {
        this.#dropSpilled(c);
        continue;
      }
      for (let i = c.head; i < c.count; i++) if ((c.flags[i] & FLAG_LIVE) !== 0) this.#kill(c, i);
    }
    this.#chunks.length = 0;
    this.#resident = 0;
    this.#length = 0;
    this.#bodyBytes = 0;
    this.close();
    return removed;
  }

  /**
   * Pick up to `maxCount` live entries with seq > `afterSeq` (of one priority, or any when
   * `priority` < 0), stopping once `maxBytes` of bodies are picked (at least one entry).
   */
  collect(afterSeq: number, maxCount: number, maxBytes: number, priority: number, plan: ReadPlan): void {
    plan.reset();
    const chunks = this.#chunks;
    let k = chunkIndexAfter(this.#chunks, afterSeq);
    for (; k < chunks.length && plan.n < maxCount; k++) {
      const c = chunks[k];
      if (c.live === 0) continue;
      this.#ensureResident(c);
      for (let i = c.positionAfter(afterSeq); i < c.count; i++) {
        const f = c.flags[i];
        if ((f & FLAG_LIVE) === 0 || (priority >= 0 && c.priority[i] !== priority)) continue;
        plan.push(c.seq[i], c.segment[i], c.offset[i], c.length[i], f);
        plan.bodyBytes += c.bodySize[i];
        if (plan.n >= maxCount || plan.bodyBytes >= maxBytes) return;
      }
    }
  }

  /** Live entries carrying any of `mask` flags, as sorted seqs (the DELIVERED record at a clean stop). */
  seqsWithFlags(mask: number): number[] {
    const out: number[] = [];
    for (const c of this.#chunks) {
      if (c.marked === 0 || c.live === 0) continue;
      this.#ensureResident(c);
      for (let i = c.head; i < c.count; i++) {
        const f = c.flags[i];
        if ((f & FLAG_LIVE) !== 0 && (f & mask) !== 0) out.push(c.seq[i]);
      }
    }
    return out;
  }

  /**
   * Visit every chunk in seq order with its entries in memory — spilled ones are read into a
   * scratch chunk without becoming resident (the clean-shutdown snapshot).
   */
  exportChunks(visit: (chunk: IndexChunk) => void): void {
    for (const c of this.#chunks) {
      if (c.live === 0) continue;
      if (c.resident) {
        visit(c);
        continue;
      }
      const copy = new IndexChunk(c.capacity);
      (this.#spill as IndexSpillFile).read(c.slot, new Uint8Array(copy.buffer as ArrayBuffer));
      copy.count = c.count;
      copy.head = c.head;
      copy.live = c.live;
      visit(copy);
    }
  }

  /** the lowest live seq, or 0 when empty */
  firstLiveSeq(): number {
    for (const c of this.#chunks) {
      if (c.live === 0) continue;
      this.#ensureResident(c);
      for (let i = c.head; i < c.count; i++) if ((c.flags[i] & FLAG_LIVE) !== 0) return c.seq[i];
    }
    return 0;
  }

  /** Drop the spill file (close of the store, or the queue emptied). */
  close(): void {
    this.#spill?.close();
    this.#spill = null;
  }

  // ---- internals ----------------------------------------------------------------------------

  #kill(c: IndexChunk, i: number): void {
    c.flags[i] &= ~FLAG_LIVE;
    c.live--;
    c.liveBodyBytes -= c.bodySize[i];
    c.dirty = true;
    this.#length--;
    this.#bodyBytes -= c.bodySize[i];
    this.#sink.release(c.segment[i], 1, c.share(i));
  }

  #afterRemoval(c: IndexChunk, k: number): void {
    if (c.live === 0) {
      this.#dropChunk(k);
      return;
    }
    this.#advanceHead(c);
    // a sparse chunk that is not the tail shrinks to its live entries
    if (k !== this.#chunks.length - 1 && c.capacity > MIN_CHUNK_CAPACITY && c.live * 8 <= c.capacity) {
      c.resize(nextCapacity(c.live));
    }
  }

  #advanceHead(c: IndexChunk): void {
    while (c.head < c.count && (c.flags[c.head] & FLAG_LIVE) === 0) c.head++;
  }

  #dropChunk(k: number): void {
    const c = this.#chunks[k];
    if (c.slot >= 0) this.#spill?.free(c.slot);
    if (c.resident) this.#resident--;
    this.#chunks.splice(k, 1);
    if (this.#chunks.length === 0) this.close();
  }

  /** Release a spilled chunk's entries from its histogram, without reading it back. */
  #dropSpilled(c: IndexChunk): void {
    const h = c.histogram;
    if (h) for (let j = 0; j < h.segments.length; j++) this.#sink.release(h.segments[j], h.refs[j], h.bytes[j]);
    this.#length -= c.live;
    this.#bodyBytes -= c.liveBodyBytes;
    c.live = 0;
    c.liveBodyBytes = 0;
    if (c.slot >= 0) this.#spill?.free(c.slot);
    c.slot = -1;
  }

  /** index of the chunk whose seq range holds `seq` (made resident), or -1 */
  #findIndex(seq: number): number {
    const k = chunkHolding(this.#chunks, seq);
    if (k >= 0) this.#ensureResident(this.#chunks[k]);
    return k;
  }

  /** the chunk whose seq range holds `seq` (made resident), or null */
  #find(seq: number): IndexChunk | null {
    const k = this.#findIndex(seq);
    return k < 0 ? null : this.#chunks[k];
  }



  #ensureResident(c: IndexChunk): void {
    c.lastUse = ++useClock;
    if (c.resident) return;
    const buffer = new ArrayBuffer(c.capacity * ENTRY_BYTES);
    (this.#spill as IndexSpillFile).read(c.slot, new Uint8Array(buffer));
    c.attach(buffer);
    c.histogram = null;
    c.dirty = false;
    this.#resident++;
    this.#o.metrics.indexChunksLoaded++;
    this.#enforceResidency(c);
  }

  /** Spill least recently used chunks (never the head or the tail, nor `keep`) over the limit. */
  #enforceResidency(keep: IndexChunk | null = null): void {
    const max = this.#o.maxResidentChunks;
    const chunks = this.#chunks;
    while (this.#resident > max) {
      let victim: IndexChunk | null = null;
      for (let k = 1; k < chunks.length - 1; k++) {
        const c = chunks[k];
        if (c.resident && c !== keep && (victim === null || c.lastUse < victim.lastUse)) victim = c;
      }
      if (victim === null) return;
      this.#spillChunk(victim);
    }
  }

  #spillChunk(c: IndexChunk): void {
    const spill = (this.#spill ??= new IndexSpillFile(this.#o.disk ?? realDisk, this.#o.spillPath, CHUNK_CAPACITY * ENTRY_BYTES));
    if (c.slot < 0) c.slot = spill.allocate();
    if (c.dirty) spill.write(c.slot, new Uint8Array(c.buffer as ArrayBuffer));
    c.histogram = c.computeHistogram();
    c.dirty = false;
    c.detach();
    this.#resident--;
    this.#o.metrics.indexChunksSpilled++;
  }
}
