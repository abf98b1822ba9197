import { FLAG_LIVE, FLAG_REDELIVERED, IndexChunk } from './index-chunk.js';
import { allocColumns, firstEntries, gatherColumns, type IndexColumns } from './index-columns.js';

/**
 * Replay state of one queue while recovery scans the journal, and its resolution into the
 * live entries sorted by seq.
 *
 * Resolution does not depend on the order of records, thanks to three invariants the store
 * keeps at run time (docs/store.md §Recovery):
 *  1. a cancel record (ACK, PURGE, QUEUE_DELETE) only names entries that were live when it
 *     was written, and a MSG for an entry is never written after the entry died (compaction
 *     copies live targets only);
 *  2. seqs are never reused within a queue (the store hands out `nextSeq` above every seq any
 *     surviving record names), queue ids never at all;
 *  3. a PURGE's kept list names every entry ≤ up-to that was live after it.
 * So (queue, seq) is live iff some MSG names it and no cancel record kills it; where several
 * copies exist (compaction crashed before deleting the original) the last one in log order
 * is used. This lets recovery collect everything in one pass and resolve with a sort.
 */
export class QueueReplay {
  readonly queueId: number;
  n = 0;
  /** the MSG copies read so far, in log order (all flagged live until resolution sets the flags) */
  readonly entries = new IndexChunk(64);
  /** strictly increasing so far (no sort needed) */
  sorted = true;
  /** highest seq any record names */
  maxSeq = 0;
  /** ACK runs as triplets: first seq, run length, segment of the record */
  readonly acks: number[] = [];
  readonly purges: { upTo: number; kept: Set<number>; segment: number }[] = [];
  /** DELIVERED runs as pairs: first seq, run length */
  readonly delivered: number[] = [];
  /** segments holding a QUEUE_DELETE for this queue */
  readonly deletes: number[] = [];

  constructor(queueId: number) {
    this.queueId = queueId;
  }

  addMsg(seq: number, segment: number, offset: number, length: number, bodySize: number, targets: number, priority: number, expiresAt: number): void {
    const e = this.entries;
    if (this.n === e.capacity) {
      e.count = this.n;
      e.resize(this.n * 2); // every copy is flagged live here, so the resize keeps them all
    }
    const i = this.n++;
    if (i > 0 && seq <= e.seq[i - 1]) this.sorted = false;
    e.put(i, seq, segment, offset, length, bodySize, targets, priority, expiresAt, FLAG_LIVE);
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  /** a seq named by a record that holds no live entry (never reuse it) */
  noteSeq(seq: number): void {
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  addAckRun(first: number, count: number, segment: number): void {
    this.acks.push(first, count, segment);
    const last = first + count - 1;
    if (last > this.maxSeq) this.maxSeq = last;
  }
}

/** The live entries of a queue after recovery, sorted by seq (parallel arrays of `count`). */
export interface RecoveredQueue extends IndexColumns {
  queueId: number;
  count: number;
}

/**
 * Resolve a queue's replay state. `addCancelTarget(S, T)` is told, for every MSG copy in
 * segment T that a cancel record in segment S kills, so the segment table knows which cancel
 * records are still needed. @returns the live entries, or null when the queue was deleted
 */
export function resolveQueue(
  q: QueueReplay,
  unclean: boolean,
  addCancelTarget: (segment: number, target: number) => void,
): RecoveredQueue | null {
  const n = q.n;
  const e = q.entries;
  if (q.deletes.length > 0) {
    for (let i = 0; i < n; i++) for (const s of q.deletes) addCancelTarget(s, e.segment[i]);
    return null;
  }
  // entries in log order are almost always in seq order too (only compaction copies are not):
  // then resolve in place, writing each live entry at or before where it was read
  const sorted = q.sorted;
  const order = sorted ? null : new Uint32Array(n);
  if (order) {
    for (let i = 0; i < n; i++) order[i] = i;
    const seq = e.seq;
    // by seq, then log order (the last copy of an entry ends its group)
    order.sort((a, b) => seq[a] - seq[b] || a - b);
  }
  const at = (k: number): number => (order === null ? k : order[k]);
  const acks = q.acks;
  const ackOrder: number[] = [];
  for (let a = 0; a < acks.length; a += 3) ackOrder.push(a);
  ackOrder.sort((x, y) => acks[x] - acks[y]);
  let maxUpTo = 0;
  for (const p of q.purges) if (p.upTo > maxUpTo) maxUpTo = p.upTo;

  // positions (in q.entries) of the live entries, in seq order
  const keep = new Uint32Array(n);
  let count = 0;
  const active: number[] = [];
  const killers: number[] = [];
  let ai = 0;
  for (let k = 0; k < n; ) {
    const s = e.seq[at(k)];
    let k2 = k + 1;
    while (k2 < n && e.seq[at(k2)] === s) k2++;
    killers.length = 0;
    while (ai < ackOrder.length && acks[ackOrder[ai]] <= s) active.push(ackOrder[ai++]);
    let w = 0;
    for (const a of active) {
      if (acks[a] + acks[a + 1] - 1 < s) continue; // run ended below s: never again
      active[w++] = a;
      killers.push(acks[a + 2]);
    }
    active.length = w;
    if (s <= maxUpTo) for (const p of q.purges) if (s <= p.upTo && !p.kept.has(s)) killers.push(p.segment);
    if (killers.length > 0) {
      for (let kk = k; kk < k2; kk++) {
        const t = e.segment[at(kk)];
        for (const seg of killers) addCancelTarget(seg, t);
      }
    } else keep[count++] = at(k2 - 1);
    k = k2;
  }
  // in log order, keep[j] ≥ j and increases: compacted in place, nothing unread is overwritten
  const cols = sorted ? e : allocColumns(count);
  gatherColumns(e, keep, count, cols);
  cols.flags.fill(unclean ? FLAG_REDELIVERED : 0, 0, count);
  const out: RecoveredQueue = { queueId: q.queueId, count, ...firstEntries(cols, count) };
  if (!unclean && q.delivered.length > 0) markDelivered(out, q.delivered);
  return out;
}

/** Flag the entries named by DELIVERED runs as redelivered (entries are sorted by seq). */
function markDelivered(out: RecoveredQueue, runs: number[]): void {
  for (let r = 0; r < runs.length; r += 2) {
    const first = runs[r];
    const last = first + runs[r + 1] - 1;
    let lo = 0;
    let hi = out.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (out.seq[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < out.count && out.seq[j] <= last; j++) out.flags[j] |= FLAG_REDELIVERED;
  }
}
