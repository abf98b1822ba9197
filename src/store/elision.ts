import { RECORD_HEADER_SIZE, lsnOf, sealRecord } from './format.js';
import { encodeHoleHeader } from './log/hole.js';
import type { WritePiece } from './log/group-commit.js';
import type { StoreMetrics } from './metrics.js';

/** What elision needs of a pending group (pending-batch.ts `PendingGroup`). */
export interface ElisionGroup {
  segment: number;
  start: number;
  bytes: number;
  buffers: Buffer[];
  /** its MSG records that may still be left out, in placement order; null when none */
  elidable: ElidableRecord[] | null;
  /** set when some were left out: the group is written as these positional writes */
  pieces: WritePiece[] | null;
  /** bytes of the group left unwritten (holes after their headers) */
  elidedBytes: number;
  /**
   * a record here must be durable for someone, so its round is fdatasynced: any MSG written,
   * PURGE, QUEUE_DELETE, copies. Not for HOLEs (their records were consumed: RabbitMQ's
   * confirm rule above), consumers' ACK records (PendingBatch.addAck `consumed`: any other
   * removal's ACK is synced) or BODY_PART records alone.
   */
  mustSync: boolean;
}

/** A MSG record placed and not yet taken by a group-commit round. */
export interface ElidableRecord {
  offset: number;
  length: number;
  /** its buffers in the group: `parts` of them from `first` */
  first: number;
  parts: number;
  /** its framed parts, sealed (CRC) only if it is written */
  head: Buffer;
  tail1: Buffer | undefined;
  tail2: Buffer | undefined;
  /** queue copies not yet acknowledged by a consumer */
  unsettled: number;
  /** a copy left its queue some other way (expired, dead-lettered, dropped, rejected) */
  mustWrite: boolean;
  /** performance.now() at its append */
  appendedAt: number;
}

const ZERO_BYTE = Buffer.alloc(1);

/**
 * The journal's elision of records nobody will read. RabbitMQ confirms a persistent message
 * "as soon as it is persisted to disk, or when it is consumed (acknowledged) on every queue"
 * (rabbitmq.com, "Introducing Publisher Confirms"), and its message store does not write a
 * message acknowledged before its write. Here: a MSG record whose every queue copy was
 * acknowledged by a consumer before its group-commit round is taken is written as a HOLE
 * frame (log/hole.ts): its header only, the body neither written, synced nor replicated, and
 * its CRC never computed. Its LSN still falls in the round, so its confirm goes out when the
 * round is durable — the message was consumed by then on every queue it reached.
 *
 * A copy that left its queue any other way (expiry, dead-lettering, a reject or drop) makes
 * the record one that is written, and so does a copy that stays (requeued, purged, deleted
 * queue: never counted as settled). Which acks count is the core's to say
 * (`MessageStore.ack(…, consumed)`): a classic queue's consumer ack; never a quorum queue's.
 */
export class Elision {
  /** tracked records not yet taken, by the LSN of their start */
  readonly #pending = new Map<number, ElidableRecord>();
  readonly #metrics: StoreMetrics;
  /** records at least this long are tracked */
  readonly minBytes: number;
  /** one HOLE spans consecutive left-out records up to this length (a reader's record bound) */
  readonly #maxHole: number;

  constructor(minBytes: number, maxHole: number, metrics: StoreMetrics) {
    this.minBytes = minBytes;
    this.#maxHole = maxHole;
    this.#metrics = metrics;
  }

  /** the last round left a record out: consumers are acking within a round */
  #consumersKeepUp = false;

  /** records placed and not yet taken that may still be left out */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * How long the next round should wait before it is taken: -1 not at all (nothing tracked);
   * 0 one turn of the event loop (the acks that came with the last round's sync are read
   * first); else the ms until the oldest tracked record has waited `windowMs` — only while
   * the last round left something out, so a publisher nobody consumes from never waits.
   */
  delayBeforeTake(windowMs: number): number {
    if (this.#pending.size === 0) return -1;
    if (!this.#consumersKeepUp || windowMs <= 0) return 0;
    const oldest = (this.#pending.values().next().value as ElidableRecord).appendedAt;
    return Math.max(0, oldest + windowMs - performance.now());
  }

  /** Track the record just placed in `group` (its CRC is left for `decide`). */
  track(group: ElisionGroup, offset: number, length: number, first: number, parts: number, head: Buffer, tail1: Buffer | undefined, tail2: Buffer | undefined, copies: number): void {
    const rec: ElidableRecord = { offset, length, first, parts, head, tail1, tail2, unsettled: copies, mustWrite: false, appendedAt: performance.now() };
    (group.elidable ??= []).push(rec);
    this.#pending.set(lsnOf(group.segment, offset), rec);
  }

  /** A queue copy of the record at (`segment`, `offset`) left its queue: by a consumer's ack when `consumed`. */
  settle(segment: number, offset: number, consumed: boolean): void {
    if (this.#pending.size === 0) return;
    const rec = this.#pending.get(lsnOf(segment, offset));
    if (rec === undefined) return;
    if (consumed) rec.unsettled--;
    else rec.mustWrite = true;
  }

  /**
   * While consumers keep up, records appended after this moment (performance.now()) are too
   * young for a round to take: their acks are likely still on the way. -Infinity otherwise.
   */
  youngAfter(windowMs: number): number {
    if (!this.#consumersKeepUp || windowMs <= 0 || this.#pending.size === 0) return -Infinity;
    return performance.now() - windowMs;
  }

  /** the index in `group.elidable` of its first record appended after `after` and not yet settled, or -1 */
  firstYoung(group: ElisionGroup, after: number): number {
    const recs = group.elidable;
    if (recs === null || after === -Infinity) return -1;
    let young = -1;
    // placement order is append order: walk back from the youngest while records are young
    for (let i = recs.length - 1; i >= 0 && recs[i].appendedAt > after; i--) {
      if (recs[i].unsettled > 0 && !recs[i].mustWrite) young = i;
    }
    return young;
  }

  /** the bytes of `group` a round taken now would write: its records less those to be left out */
  bytesToWrite(group: ElisionGroup): number {
    const recs = group.elidable;
    if (recs === null) return group.bytes;
    let bytes = group.bytes;
    for (const rec of recs) if (rec.unsettled <= 0 && !rec.mustWrite) bytes -= rec.length;
    return bytes;
  }

  /** A round took `groups`: leave out the records nobody will read, seal the others. */
  decide(groups: readonly ElisionGroup[]): void {
    const m = this.#metrics;
    let tracked = false;
    let left = false;
    for (const g of groups) {
      const recs = g.elidable;
      if (recs === null) continue;
      let elided: ElidableRecord[] | null = null;
      tracked = true;
      for (const rec of recs) {
        this.#pending.delete(lsnOf(g.segment, rec.offset));
        if (rec.unsettled <= 0 && !rec.mustWrite) {
          left = true;
          (elided ??= []).push(rec);
          m.elidedRecords++;
          m.elidedBytes += rec.length;
        } else {
          g.mustSync = true;
          sealRecord(rec.head, rec.tail1, rec.tail2);
          m.checksummedBytes += rec.length;
        }
      }
      g.elidable = null;
      if (elided !== null) writeAround(g, elided, this.#maxHole);
    }
    if (tracked) this.#consumersKeepUp = left;
  }
}

/**
 * The group's positional writes around the `elided` records: consecutive ones (up to `maxHole`
 * bytes) become one HOLE header and one gap, so a round of mostly consumed records is a few
 * writes, not one per record.
 */
function writeAround(g: ElisionGroup, elided: ElidableRecord[], maxHole: number): void {
  const pieces: WritePiece[] = [];
  let position = g.start;
  let buffers: Buffer[] = [];
  let bytes = 0;
  let next = 0; // the group's next buffer to write
  for (let i = 0; i < elided.length; ) {
    const first = elided[i];
    // the run of left-out records that follow each other in the file
    let length = first.length;
    let j = i + 1;
    while (j < elided.length && elided[j].first === elided[j - 1].first + elided[j - 1].parts && length + elided[j].length <= maxHole) length += elided[j++].length;
    const last = elided[j - 1];
    for (; next < first.first; next++) {
      buffers.push(g.buffers[next]);
      bytes += g.buffers[next].length;
    }
    buffers.push(encodeHoleHeader(length));
    pieces.push({ position, buffers, bytes: bytes + RECORD_HEADER_SIZE });
    g.elidedBytes += length - RECORD_HEADER_SIZE;
    next = last.first + last.parts;
    position = first.offset + length;
    buffers = [];
    bytes = 0;
    i = j;
  }
  for (; next < g.buffers.length; next++) {
    buffers.push(g.buffers[next]);
    bytes += g.buffers[next].length;
  }
  if (bytes > 0) pieces.push({ position, buffers, bytes });
  else {
    // the group ends in a gap: its last byte is written, so the file is as long as the log
    // says (a scan finds the HOLE whole, not a torn tail)
    pieces.push({ position: position - 1, buffers: [ZERO_BYTE], bytes: 1 });
    g.elidedBytes--;
  }
  g.pieces = pieces;
}
