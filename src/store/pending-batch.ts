import {
  MAX_SEGMENT_NUMBER,
  RECORD_HEADER_SIZE,
  RecordType,
  SEGMENT_HEADER_SIZE,
  countRuns,
  encodeRunsRecord,
  lsnOf,
  msgPrefixBound,
  writeMsgPrefix,
  type MsgFields,
} from './format.js';
import { Elision, type ElidableRecord, type ElisionGroup } from './elision.js';
import { RecordArena } from './log/record-arena.js';
import type { StoreMetrics } from './metrics.js';

/** Records of one segment waiting to be written: one gather write (or `pieces`: elision.ts). */
export interface PendingGroup extends ElisionGroup {
  records: number;
}

/**
 * The append side of the journal: frames records in an arena (log/record-arena.ts), gives each its place
 * (segment, offset — so its LSN) and collects them into per-segment groups until the flush
 * takes them. Rolls over to a new segment number when a record would not fit; the file is
 * created by the writer when the group is written. Consumer acks wait here, coalesced per
 * queue, until the flush turns them into one ACK record per queue.
 */
export class PendingBatch {
  readonly #segmentSize: number;
  readonly #roundBytes: number;
  readonly #metrics: StoreMetrics;
  readonly #arena = new RecordArena();
  /** records consumed before their round are left out (elision.ts) */
  readonly elision: Elision;
  #segment: number;
  #offset = SEGMENT_HEADER_SIZE;
  #groups: PendingGroup[] = [];
  #current: PendingGroup | null = null;
  #acks = new Map<number, number[]>();
  /** an ack waiting is not a consumer's: the ACK records are synced with their round */
  #acksMustSync = false;
  /** bytes placed and not yet taken by a flush */
  bytes = 0;
  /** LSN of the end of the last record placed */
  appendedLsn: number;
  /** where the last record went */
  lastSegment = 0;
  lastOffset = 0;
  lastLength = 0;
  /** records and acks so far: an idle journal is one where this does not move */
  appendCount = 0;

  constructor(firstSegment: number, segmentSize: number, roundBytes: number, metrics: StoreMetrics, elideMinBytes = Infinity, maxRecordSize = segmentSize) {
    this.elision = new Elision(elideMinBytes, maxRecordSize, metrics);
    this.#segment = firstSegment;
    this.#segmentSize = segmentSize;
    this.#roundBytes = roundBytes;
    this.#metrics = metrics;
    this.appendedLsn = lsnOf(firstSegment, SEGMENT_HEADER_SIZE);
  }

  /** the segment new records go to */
  get segment(): number {
    return this.#segment;
  }

  get empty(): boolean {
    return this.#groups.length === 0 && this.#acks.size === 0;
  }

  /** segment of the first group waiting, or -1 */
  get firstSegment(): number {
    return this.#groups.length > 0 ? this.#groups[0].segment : -1;
  }

  addMessage(f: MsgFields, queueIds: ArrayLike<number>, seqs: ArrayLike<number>, count: number, properties: Buffer, body: Buffer): void {
    const a = this.#arena;
    const buf = a.begin(RECORD_HEADER_SIZE + msgPrefixBound(f.exchange, f.routingKey, count), properties, body);
    const end = writeMsgPrefix(buf, a.start, f, queueIds, seqs, count, properties, body);
    // a record that may be left out is sealed when its round is taken, if it is written
    const elidable = end - a.start + properties.length + body.length >= this.elision.minBytes;
    const length = a.finish(end, properties, body, !elidable);
    const group = this.#place(length);
    // a record that may be left out needs a sync only if it is written (elision.ts decide)
    if (!elidable) group.mustSync = true;
    const first = group.buffers.length;
    a.pushTo(group.buffers);
    this.#metrics.msgRecords++;
    if (elidable) this.elision.track(group, this.lastOffset, length, first, group.buffers.length - first, a.head, a.tail1, a.tail2, count);
    else this.#metrics.checksummedBytes += length; // sealed by the arena: one CRC pass over the record
  }

  /** A record given whole or as parts (header and CRC included). */
  addRecord(parts: Buffer[], length: number, type: number, syncNeeded = type !== RecordType.BODY_PART): void {
    const group = this.#place(length);
    if (syncNeeded) group.mustSync = true;
    for (const p of parts) group.buffers.push(p);
    const metrics = this.#metrics;
    if (type === RecordType.MSG) metrics.msgRecords++;
    else if (type === RecordType.ACK) metrics.ackRecords++;
    else if (type === RecordType.PURGE) metrics.purgeRecords++;
    else if (type === RecordType.QUEUE_DELETE) metrics.queueDeleteRecords++;
    else metrics.otherRecords++;
  }

  addAck(queueId: number, seq: number, consumed = false): void {
    if (!consumed) this.#acksMustSync = true;
    let seqs = this.#acks.get(queueId);
    if (!seqs) this.#acks.set(queueId, (seqs = []));
    seqs.push(seq);
    this.appendCount++;
  }

  /** The last group waiting is synced by its round, whatever it holds (flush()). */
  requireSync(): void {
    const n = this.#groups.length;
    if (n > 0) this.#groups[n - 1].mustSync = true;
  }

  /** Next records go to a new segment. @returns false when the current one is still empty */
  rollover(): boolean {
    if (this.#offset === SEGMENT_HEADER_SIZE) return false;
    this.#nextSegment();
    return true;
  }

  /**
   * Turn the coalesced acks into one ACK record per queue, at the end of the batch (after
   * every MSG they could refer to). @returns the segments the ACK records went to
   */
  encodeAcks(): number[] {
    const segments: number[] = [];
    if (this.#acks.size === 0) return segments;
    for (const [queueId, seqs] of this.#acks) {
      const record = encodeRunsRecord(RecordType.ACK, queueId, seqs, countRuns(seqs));
      // consumers' acks alone need no sync: nothing waits for them to be durable (a lost one is
      // a redelivery, decision 6) and the next synced round or the seal covers them. Any other
      // removal does: an expired or rejected message dead-lettered must not come back to be
      // dead-lettered twice (its copy may be durable already)
      this.addRecord([record], record.length, RecordType.ACK, this.#acksMustSync);
      if (segments[segments.length - 1] !== this.lastSegment) segments.push(this.lastSegment);
    }
    this.#acks.clear();
    this.#acksMustSync = false;
    return segments;
  }

  /**
   * Hand the flush the groups of its round: the oldest ones, up to `roundBytes` of what will
   * be written (at least one group); the rest wait for the next round, so one fdatasync covers
   * a few MiB at most. Records already consumed on every queue are left out of the write
   * (elision.ts) and do not count: with 1 MiB bodies a round of logical bytes held three
   * messages, and a consumer that kept up turned every three into a round of its own.
   * While consumers keep up, the round also stops before a group holding a record younger than
   * `windowMs` whose ack has not come (elision.ts `youngAfter`): the next round takes it,
   * likely left out by then, instead of this one writing it.
   */
  take(windowMs = 0): PendingGroup[] {
    const all = this.#groups;
    const elision = this.elision;
    const youngAfter = elision.youngAfter(windowMs);
    let n = 0;
    let bytes = 0;
    let stop = false;
    while (n < all.length && !stop) {
      let g = all[n];
      const k = elision.firstYoung(g, youngAfter);
      if (k >= 0) {
        // the young record and what follows it wait; a group starting with it waits whole,
        // unless it is the first (a round takes something)
        if ((g.elidable as ElidableRecord[])[k].offset > g.start) {
          g = this.#splitBefore(n, k);
          stop = true;
        } else if (n > 0) break;
      }
      const next = elision.bytesToWrite(g);
      if (n > 0 && bytes + next > this.#roundBytes) break;
      bytes += next;
      n++;
    }
    if (n === all.length) {
      this.#groups = [];
      this.#current = null;
      return joinContiguous(all);
    }
    this.#groups = all.slice(n);
    return joinContiguous(all.slice(0, n));
  }

  /**
   * Cut group `n` before its tracked record `k` (records own whole buffers: record-arena.ts):
   * the group keeps what comes before, a new group after it in the list takes the rest and,
   * if the group was the one being appended to, the appends. @returns the group, cut
   */
  #splitBefore(n: number, k: number): PendingGroup {
    const g = this.#groups[n];
    const recs = g.elidable as ElidableRecord[];
    const at = recs[k];
    const cut = at.first;
    const moved = recs.slice(k);
    for (const r of moved) r.first -= cut;
    const headBytes = at.offset - g.start;
    // records counts feed a metric only: untracked records moved along are not counted
    const tail: PendingGroup = { segment: g.segment, start: at.offset, bytes: g.bytes - headBytes, records: moved.length, buffers: g.buffers.slice(cut), elidable: moved, pieces: null, elidedBytes: 0, mustSync: g.mustSync };
    g.bytes = headBytes;
    g.records = Math.max(1, g.records - moved.length);
    g.buffers = g.buffers.slice(0, cut);
    g.elidable = k > 0 ? recs.slice(0, k) : null;
    this.#groups.splice(n + 1, 0, tail);
    if (this.#current === g) this.#current = tail;
    return g;
  }

  /** Reserve `total` bytes at the append position (rolling over when the segment is full). */
  #place(total: number): PendingGroup {
    // a record larger than a segment gets a segment of its own
    if (this.#offset + total > this.#segmentSize && this.#offset > SEGMENT_HEADER_SIZE) this.#nextSegment();
    let group = this.#current;
    // a group is one round's gather write: a new one past the round's bytes
    if (group === null || group.segment !== this.#segment || (group.bytes > 0 && group.bytes + total > this.#roundBytes)) {
      group = { segment: this.#segment, start: this.#offset, bytes: 0, records: 0, buffers: [], elidable: null, pieces: null, elidedBytes: 0, mustSync: false };
      this.#groups.push(group);
      this.#current = group;
    }
    this.lastSegment = this.#segment;
    this.lastOffset = this.#offset;
    this.lastLength = total;
    this.#offset += total;
    group.bytes += total;
    group.records++;
    this.bytes += total;
    this.appendedLsn = lsnOf(this.#segment, this.#offset);
    this.appendCount++;
    return group;
  }

  #nextSegment(): void {
    if (this.#segment >= MAX_SEGMENT_NUMBER) throw new RangeError('journal segment numbers exhausted');
    this.#segment++;
    this.#offset = SEGMENT_HEADER_SIZE;
  }
}

/**
 * A round's groups of one segment that follow each other in the file, joined into one group:
 * one gather write instead of one per group, and left-out records on both sides of a group
 * boundary become one HOLE (elision.ts) instead of a zero byte ending the first group's gap
 * and a HOLE header starting the next one's — two positional writes per 4 MiB of consumed
 * records before. Groups are cut at `roundBytes` for placement only; a round writes them all.
 */
function joinContiguous(groups: PendingGroup[]): PendingGroup[] {
  if (groups.length < 2) return groups;
  const out: PendingGroup[] = [groups[0]];
  for (let i = 1; i < groups.length; i++) {
    const g = groups[i];
    const last = out[out.length - 1];
    if (g.segment !== last.segment || g.start !== last.start + last.bytes) {
      out.push(g);
      continue;
    }
    const shift = last.buffers.length;
    for (const b of g.buffers) last.buffers.push(b);
    if (g.elidable !== null) {
      for (const r of g.elidable) r.first += shift;
      if (last.elidable === null) last.elidable = g.elidable;
      else for (const r of g.elidable) last.elidable.push(r);
    }
    last.bytes += g.bytes;
    last.records += g.records;
    last.mustSync ||= g.mustSync;
  }
  return out;
}
