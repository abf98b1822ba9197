/**
 * The columns of a queue-index entry, described once. Everything that holds index entries in
 * bulk lays them out column after column in this order: the in-memory index chunks
 * (index-chunk.ts, and the spill file, which stores chunks as they are in memory), the replay
 * arrays recovery fills (replay.ts) and the ENTRIES records of the clean-shutdown snapshot
 * (snapshot.ts). Widest columns first, so that for a count that is a multiple of 8 every
 * column starts aligned for its typed array.
 *
 * Typed arrays use the platform's byte order; the spill file and the snapshot are caches read
 * back by the same machine (every platform Node supports in production is little-endian).
 */
export const INDEX_COLUMNS = [
  { name: 'seq', array: Float64Array },
  /** ms since the epoch, 0 = never */
  { name: 'expiresAt', array: Float64Array },
  /** where the MSG record is: segment number, offset in it, total record length */
  { name: 'segment', array: Uint32Array },
  { name: 'offset', array: Uint32Array },
  { name: 'length', array: Uint32Array },
  { name: 'bodySize', array: Uint32Array },
  /** how many queues the record names (its bytes are shared among them) */
  { name: 'targets', array: Uint16Array },
  { name: 'priority', array: Uint8Array },
  /** FLAG_* of index-chunk.ts */
  { name: 'flags', array: Uint8Array },
] as const;

type Column = (typeof INDEX_COLUMNS)[number];

/** One typed array per column, each indexed by entry. */
export type IndexColumns = { [C in Column as C['name']]: InstanceType<C['array']> };
export type IndexColumnName = keyof IndexColumns;

/** bytes per entry over all columns (36) */
export const ENTRY_BYTES = INDEX_COLUMNS.reduce((n, c) => n + c.array.BYTES_PER_ELEMENT, 0);

type Writable = Record<IndexColumnName, Float64Array | Uint32Array | Uint16Array | Uint8Array>;

/** Views of `count` entries laid out column after column from `byteOffset` of `buffer`. */
export function columnViews(buffer: ArrayBuffer, count: number, byteOffset = 0): IndexColumns {
  const out = {} as Writable;
  let at = byteOffset;
  for (const c of INDEX_COLUMNS) {
    out[c.name] = new c.array(buffer, at, count);
    at += c.array.BYTES_PER_ELEMENT * count;
  }
  return out as IndexColumns;
}

/** Fresh zeroed columns for `count` entries, over one ArrayBuffer. */
export function allocColumns(count: number): IndexColumns {
  return columnViews(new ArrayBuffer(count * ENTRY_BYTES), count);
}

/** Point `target`'s column fields at views of `count` entries of `buffer` (a chunk attaching its memory). */
export function attachColumns(target: IndexColumns, buffer: ArrayBuffer, count: number): void {
  Object.assign(target, columnViews(buffer, count));
}

/** The column fields of `source` (so they can be read after `source` is re-attached). */
export function pickColumns(source: IndexColumns): IndexColumns {
  const out = {} as Writable;
  for (const c of INDEX_COLUMNS) out[c.name] = source[c.name];
  return out as IndexColumns;
}

/** Views of the first `n` entries of `cols`. */
export function firstEntries(cols: IndexColumns, n: number): IndexColumns {
  const out = {} as Writable;
  for (const c of INDEX_COLUMNS) out[c.name] = cols[c.name].subarray(0, n);
  return out as IndexColumns;
}

/**
 * Copy the entries at `positions[0..n)` of `from` to `to` from `toStart` on, column by column.
 * `from` and `to` may be the same columns when every position is at or after its destination
 * and positions increase (compaction in place).
 */
export function gatherColumns(from: IndexColumns, positions: ArrayLike<number>, n: number, to: IndexColumns, toStart = 0): void {
  for (const c of INDEX_COLUMNS) {
    const src = from[c.name];
    const dst = to[c.name];
    for (let j = 0; j < n; j++) dst[toStart + j] = src[positions[j]];
  }
}

/** Bytes of the columns of `n` entries (laid out for count n), as written into a snapshot record. */
export function columnBytes(cols: IndexColumns, n: number): Uint8Array {
  return new Uint8Array(cols.seq.buffer, cols.seq.byteOffset, n * ENTRY_BYTES);
}
