import { join } from 'node:path';
import { MSG_FLAG_BODY_PARTS, MsgView, RECORD_HEADER_SIZE, RecordType, lsnOf, readMsg, segmentFileName } from './format.js';
import type { LargeBody } from './large-body.js';
import { checkFrame } from './log/frame-check.js';
import type { Journal } from './journal.js';
import type { Disk } from './disk/disk.js';
import { readAt } from './log/read-at.js';
import type { ReadListener, StoredMessage } from './message-store.js';
import type { StoreMetrics } from './metrics.js';
import { FLAG_REDELIVERED } from './index-chunk.js';
import type { ReadPlan } from './queue-index.js';
import type { StoreLog } from './recovery.js';
import type { SegmentTable } from './segment-table.js';

/** What a read of a queue's entries needs from the store. */
export interface ReadContext {
  /** segments are pinned (`readers`) while read, so reclaim leaves them */
  readonly segments: SegmentTable;
  readonly journal: Journal;
  /** whether the entry is still live when the read completes */
  isLive(queueId: number, seq: number): boolean;
  /** the pins are gone: reclaim may have work */
  afterRead(): void;
  /** the body a MSG's part list names (large-bodies.ts) */
  bodyOf(queueId: number, seq: number, partList: Buffer): LargeBody | null;
}

/** Records closer than this are read in one positional read (the gap is read and dropped). */
const MAX_GAP = 64 * 1024;
/** A coalesced read stops growing at this size (a single larger record is read alone). */
const MAX_SPAN = 1024 * 1024;
const MAX_OPEN_FILES = 64;

interface ReadHandle {
  fd: number;
  /** reads in flight; the file is closed only at 0 */
  refs: number;
  lastUse: number;
  /** callbacks waiting for the open to finish */
  waiting: ((error: Error | null) => void)[] | null;
}

/** A record that failed its checksum or did not decode when read back. */
export class DamagedRecordError extends Error {
  readonly queueId: number;
  readonly seqs: number[];
  constructor(queueId: number, seqs: number[]) {
    super(`queue ${queueId}: ${seqs.length} stored message(s) failed their checksum (seqs ${seqs.slice(0, 5).join(', ')}${seqs.length > 5 ? ', …' : ''})`);
    this.name = 'DamagedRecordError';
    this.queueId = queueId;
    this.seqs = seqs;
  }
}

let clock = 0;

/**
 * Positional reads of MSG records (no mmap in Node): one read per span of nearby records of
 * the same segment, checksum verified on every record read, read handles cached (LRU) and
 * reference-counted so that a segment is never closed — or unlinked — under a read.
 */
export class MessageReader {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #metrics: StoreMetrics;
  readonly #handles = new Map<number, ReadHandle>();
  readonly #log: StoreLog | undefined;

  constructor(disk: Disk, dir: string, metrics: StoreMetrics, log?: StoreLog) {
    this.#disk = disk;
    this.#dir = dir;
    this.#metrics = metrics;
    this.#log = log;
  }

  get openFiles(): number {
    return this.#handles.size;
  }

  /**
   * Read the entries of `plan` for `listener`: pin their segments, wait until records of this
   * turn are written (never read past what the file holds — osiris#73), read, then leave out
   * entries removed meanwhile.
   */
  readEntries(queueId: number, plan: ReadPlan, ctx: ReadContext, listener: ReadListener, token: number): void {
    if (plan.n === 0) return void setImmediate(() => listener.onMessages(token, [], null));
    let maxLsn = 0;
    for (let i = 0; i < plan.n; i++) {
      ctx.segments.ensure(plan.segment[i]).readers++;
      const lsn = lsnOf(plan.segment[i], plan.offset[i] + plan.length[i]);
      if (lsn > maxLsn) maxLsn = lsn;
    }
    const unpin = (): void => {
      for (let i = 0; i < plan.n; i++) {
        const s = ctx.segments.get(plan.segment[i]);
        if (s) s.readers--;
      }
      ctx.afterRead();
    };
    const go = (error: Error | null): void => {
      if (error) {
        unpin();
        listener.onMessages(token, [], error);
        return;
      }
      this.readPlan(
        queueId,
        plan,
        (messages, readError) => {
          unpin();
          const live: StoredMessage[] = [];
          for (const message of messages) {
            if (!ctx.isLive(queueId, message.seq)) continue;
            // a body in parts: the message names it, its bytes stay in the journal
            if (message.bodyRef === undefined) message.bodyRef = ctx.bodyOf(queueId, message.seq, message.body);
            live.push(message);
          }
          listener.onMessages(token, live, readError);
        },
        ctx.isLive,
      );
    };
    if (maxLsn > ctx.journal.writtenLsn) ctx.journal.whenWritten(maxLsn, go);
    else go(null);
  }

  /**
   * Read the records of `plan` (entries of queue `queueId`) and decode them, in plan order.
   * `done` gets the messages read and an error naming entries that could not be read; with
   * `isLive`, entries removed meanwhile are not decoded (a record consumed before its round
   * was never written: elision.ts).
   */
  readPlan(queueId: number, plan: ReadPlan, done: (messages: StoredMessage[], error: Error | null) => void, isLive?: (queueId: number, seq: number) => boolean): void {
    const n = plan.n;
    if (n === 0) return void setImmediate(done, [], null);
    // spans over entries sorted by location
    const byLocation = Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => plan.segment[a] - plan.segment[b] || plan.offset[a] - plan.offset[b],
    );
    const spans: { segment: number; start: number; end: number; entries: number[]; buf: Buffer | null }[] = [];
    for (const i of byLocation) {
      const seg = plan.segment[i];
      const start = plan.offset[i];
      const end = start + plan.length[i];
      const s = spans.length > 0 ? spans[spans.length - 1] : null;
      if (s && s.segment === seg && start - s.end <= MAX_GAP && end - s.start <= MAX_SPAN && start >= s.start) {
        if (end > s.end) s.end = end;
        s.entries.push(i);
      } else spans.push({ segment: seg, start, end, entries: [i], buf: null });
    }
    let pending = spans.length;
    let failure: Error | null = null;
    const finish = (): void => {
      const messages: (StoredMessage | null)[] = new Array(n).fill(null);
      const damaged: number[] = [];
      const view = new MsgView();
      for (const s of spans) {
        if (!s.buf) continue;
        for (const i of s.entries) {
          if (isLive !== undefined && !isLive(queueId, plan.seq[i])) continue;
          this.#metrics.checksummedBytes += plan.length[i];
          const message = decodeAt(s.buf, plan.offset[i] - s.start, plan.length[i], queueId, plan.seq[i], plan.flags[i], view);
          if (message) messages[i] = message;
          else damaged.push(plan.seq[i]);
        }
      }
      const out: StoredMessage[] = [];
      for (const message of messages) if (message) out.push(message);
      this.#metrics.messagesRead += out.length;
      let error = failure;
      if (!error && damaged.length > 0) {
        this.#metrics.readErrors++;
        error = new DamagedRecordError(queueId, damaged.sort((a, b) => a - b));
        // A clean restart trusts the snapshot and scans nothing, so bit rot in a sealed
        // segment first shows here: say so, as recovery would have (docs/store.md decision 10).
        this.#log?.('warn', `${error.message} when read back`, { queueId, seqs: damaged.slice(0, 100) });
      }
      done(out, error);
    };
    for (const s of spans) {
      this.#readSpan(s.segment, s.start, s.end - s.start, (error, buf) => {
        if (error) {
          failure ??= error;
          this.#metrics.readErrors++;
        } else s.buf = buf;
        if (--pending === 0) finish();
      });
    }
  }

  /** One positional read of `length` bytes of a segment (a large body's parts). */
  readRange(segment: number, position: number, length: number, cb: (error: Error | null, buf: Buffer | null) => void): void {
    this.#readSpan(segment, position, length, cb);
  }

  /** Close the read handle of a segment about to be deleted (no reads may be in flight). */
  closeSegment(segment: number): void {
    const h = this.#handles.get(segment);
    if (!h || h.refs > 0 || h.waiting) return;
    this.#handles.delete(segment);
    this.#disk.fdClose(h.fd, noop);
  }

  closeAll(): void {
    for (const [segment, h] of this.#handles) {
      if (h.waiting || h.fd < 0) continue;
      this.#handles.delete(segment);
      this.#disk.fdClose(h.fd, noop);
    }
  }

  #readSpan(segment: number, position: number, length: number, cb: (error: Error | null, buf: Buffer | null) => void): void {
    this.#acquire(segment, (error, h) => {
      if (error || !h) return cb(error ?? new Error('no read handle'), null);
      const buf = Buffer.allocUnsafe(length);
      readAt(this.#disk, h.fd, buf, length, position, (err, bytes) => {
        h.refs--;
        this.#metrics.reads++;
        if (err) return cb(err, null);
        if (bytes < length) return cb(new Error(`segment ${segment} is shorter than its index says`), null);
        this.#metrics.readBytes += length;
        cb(null, buf);
      });
    });
  }

  #acquire(segment: number, cb: (error: Error | null, h: ReadHandle | null) => void): void {
    let h = this.#handles.get(segment);
    if (h) {
      h.refs++;
      h.lastUse = ++clock;
      if (h.waiting) h.waiting.push((e) => cb(e, e ? null : (h as ReadHandle)));
      else cb(null, h);
      return;
    }
    this.#evict();
    const handle: ReadHandle = { fd: -1, refs: 1, lastUse: ++clock, waiting: [] };
    h = handle;
    this.#handles.set(segment, handle);
    this.#disk.fdOpen(join(this.#dir, segmentFileName(segment)), 'r', (err, fd) => {
      const waiting = handle.waiting ?? [];
      handle.waiting = null;
      if (err) {
        this.#handles.delete(segment);
        cb(err, null);
        for (const w of waiting) w(err);
        return;
      }
      handle.fd = fd;
      cb(null, handle);
      for (const w of waiting) w(null);
    });
  }

  #evict(): void {
    if (this.#handles.size < MAX_OPEN_FILES) return;
    let victim = -1;
    let oldest = Infinity;
    for (const [segment, h] of this.#handles) {
      if (h.refs === 0 && !h.waiting && h.lastUse < oldest) {
        oldest = h.lastUse;
        victim = segment;
      }
    }
    if (victim >= 0) this.closeSegment(victim);
  }
}

function noop(): void {}

/** Decode a MSG record read back; null when it fails its checksum or does not decode. */
function decodeAt(
  buf: Buffer,
  at: number,
  length: number,
  queueId: number,
  seq: number,
  flags: number,
  view: MsgView,
): (StoredMessage & { bodyRef?: LargeBody | null }) | null {
  // the log engine's framing check, bounded by the length the index gave
  if (at < 0 || at + length > buf.length || checkFrame(buf, at, at + length, length) !== null) return null;
  const payloadLength = buf.readUInt32LE(at + 4);
  if (payloadLength + RECORD_HEADER_SIZE !== length || buf[at + 8] !== RecordType.MSG) return null;
  if (!readMsg(buf, at + RECORD_HEADER_SIZE, payloadLength, view)) return null;
  return {
    queueId,
    seq,
    msgId: view.msgId,
    exchange: view.exchange(buf),
    routingKey: view.routingKey(buf),
    properties: buf.subarray(view.propertiesAt, view.propertiesAt + view.propertiesLength),
    body: buf.subarray(view.bodyAt, view.bodyAt + view.bodyLength),
    publishedAt: view.publishedAt,
    expiresAt: view.expiresAt,
    priority: view.priority,
    redelivered: (flags & FLAG_REDELIVERED) !== 0,
    // a body in parts is looked up by readEntries (body then holds the part list)
    bodyRef: (view.flags & MSG_FLAG_BODY_PARTS) !== 0 ? undefined : null,
  };
}
