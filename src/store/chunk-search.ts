import type { IndexChunk } from './index-chunk.js';

/** Searches over a queue index's chunks (queue-index.ts), in seq order; none loads a spilled chunk. */

/** index of the chunk whose seq range holds `seq`, or -1 */
export function chunkHolding(chunks: readonly IndexChunk[], seq: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = chunks[mid];
    if (seq < c.firstSeq) hi = mid - 1;
    else if (seq > c.lastSeq) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** index of the first chunk that may hold a seq above `seq` */
export function chunkIndexAfter(chunks: readonly IndexChunk[], seq: number): number {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunks[mid].lastSeq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** live entries held in memory / spilled, and the bytes of resident chunk arrays */
export function chunkMemory(chunks: readonly IndexChunk[]): { resident: number; spilled: number; bytes: number } {
  let resident = 0;
  let spilled = 0;
  let bytes = 0;
  for (const c of chunks) {
    if (c.resident) {
      resident += c.live;
      bytes += c.dataBytes;
    } else spilled += c.live;
  }
  return { resident, spilled, bytes };
}

/** whether `kept` names a seq in [first, last] */
export function keptWithin(kept: ReadonlySet<number>, first: number, last: number): boolean {
  for (const s of kept) if (s >= first && s <= last) return true;
  return false;
}
