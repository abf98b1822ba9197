import { Deque } from '../../../util/deque.js';
import type { Consumer } from '../../delivery/consumer.js';
import type { Message } from '../../message.js';
import { messageOfRecord } from './stream-message.js';
import { SEGMENT_HEADER_SIZE, StreamRecordView, readStreamRecord } from '../../../store/stream/stream-format.js';
import type { StreamLog } from '../../../store/stream/stream-log.js';
import type { StreamSegment } from '../../../store/stream/stream-segment.js';
import { SegmentGoneError, readChunk, type StreamReadListener } from '../../../store/stream/stream-seek.js';
import type { QueueEntry } from '../queue-entry.js';
import type { OffsetSpec } from './stream-arguments.js';
import type { StreamTailCache } from './stream-tail-cache.js';

/** Bytes read from a segment at a time; many records are decoded from one read. */
const CHUNK_BYTES = 256 * 1024;

/** What a cursor needs from its stream queue. */
export interface CursorOwner {
  readonly log: StreamLog;
  readonly cache: StreamTailCache;
  /** a read completed: deliver what it brought */
  cursorReady(cursor: StreamCursor): void;
  readFailed(cursor: StreamCursor, error: Error): void;
}

/**
 * One consumer's place in a stream: the next offset it wants, and how it gets there — from
 * the tail cache when that offset is recent, otherwise by reading chunks of its segment
 * (positioned with the sparse offset or time index, then walking records) and decoding them
 * one by one as credit allows. Deliveries go out in offset order; gaps left by compaction are
 * skipped. A segment removed under the reader (retention, compaction swap) makes it re-seek
 * by offset, so it sees either the old records or the new ones, never a mix.
 *
 * Named consumers (and single-active groups) track their outstanding deliveries in order, so
 * the committed offset is the last one acked with everything before it acked too.
 */
export class StreamCursor implements StreamReadListener {
  readonly consumer: Consumer;
  /** `x-stream-consumer-name`, or null */
  readonly name: string | null;
  /** single-active-consumer group ('' for unnamed consumers), or null without SAC */
  readonly group: string | null;
  readonly spec: OffsetSpec;
  readonly #owner: CursorOwner;
  /** whether it may deliver (single active consumer: only the group's first) */
  active = false;
  /** removed from the queue; kept only to account for acks of what it delivered */
  detached = false;
  /** the next offset to deliver (records below it are skipped) */
  nextOffset = 0;
  /** deliver nothing older than this (a timestamp start), 0 = no filter */
  #minTimestamp = 0;
  // disk position and the chunk being decoded
  #segment: StreamSegment | null = null;
  #position = 0;
  #chunk: Buffer | null = null;
  #chunkAt = 0;
  #chunkEnd = 0;
  #reading = false;
  #readToken = 0;
  readonly #view = new StreamRecordView();
  /** deliveries in offset order, for the committed offset (named or grouped consumers only) */
  readonly outstanding: Deque<QueueEntry> | null;
  /** the highest offset with it and everything before it settled, -1 = none */
  committed = -1;

  constructor(owner: CursorOwner, consumer: Consumer, spec: OffsetSpec, name: string | null, group: string | null) {
    this.#owner = owner;
    this.consumer = consumer;
    this.spec = spec;
    this.name = name;
    this.group = group;
    this.outstanding = name !== null || group !== null ? new Deque<QueueEntry>() : null;
  }

  /** Begin delivering: from `resumeAfter` + 1 when an offset was stored, else where the spec says. */
  start(resumeAfter: number | undefined): void {
    const log = this.#owner.log;
    this.active = true;
    this.#dropChunk();
    this.#segment = null;
    if (resumeAfter !== undefined) return this.#seek(resumeAfter + 1);
    const s = this.spec;
    switch (s.kind) {
      case 'first':
        return this.#seek(log.firstOffset);
      case 'last':
        return this.#seek(log.lastChunkStart);
      case 'next':
        return this.#seek(log.committedOffset);
      case 'offset':
        return this.#seek(s.offset);
      case 'timestamp': {
        this.nextOffset = log.firstOffset;
        this.#minTimestamp = s.ms;
        const p = log.positionForTimestamp(s.ms);
        this.#segment = p.segment;
        this.#position = p.position;
        return;
      }
    }
  }

  /**
   * The next message to deliver, or null: at the tail (the queue dispatches again on the next
   * commit), or waiting for a read (`cursorReady` follows).
   */
  next(): Message | null {
    const log = this.#owner.log;
    for (;;) {
      if (this.nextOffset >= log.committedOffset && this.#minTimestamp === 0) return null;
      if (this.#chunk !== null) {
        const message = this.#fromChunk(log);
        if (message !== null) return message;
        if (this.#chunk !== null) continue;
      }
      if (this.#minTimestamp === 0) {
        const cached = this.#owner.cache.get(this.nextOffset);
        if (cached !== undefined && this.nextOffset < log.committedOffset) {
          this.#segment = null; // the disk position is stale once the cache served
          this.nextOffset++;
          return cached;
        }
      }
      if (this.#reading) return null;
      if (!this.#advance(log)) return null;
    }
  }

  /** deliveries not yet settled or given back */
  inFlight = 0;

  /** A delivery of `offset` was made. */
  delivered(entry: QueueEntry): void {
    this.inFlight++;
    this.outstanding?.push(entry);
  }

  /**
   * A delivery was settled (`processed`: acked, or rejected — a stream never redelivers), or
   * given back unprocessed (its channel closed). @returns whether `committed` moved
   */
  settled(): boolean {
    this.inFlight--;
    const q = this.outstanding;
    if (q === null) return false;
    let moved = false;
    for (let head = q.peek(); head !== undefined && head.consumer === null && !head.redelivered; head = q.peek()) {
      q.shift();
      this.committed = head.seq;
      moved = true;
    }
    return moved;
  }

  /** nothing it delivered is still unsettled */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  stop(): void {
    this.active = false;
    this.#dropChunk();
    this.#readToken++; // a read in flight is ignored
    this.#reading = false;
  }

  // ---- StreamReadListener ------------------------------------------------------------------

  onStreamRead(token: number, error: Error | null, segment: StreamSegment, position: number, buf: Buffer, bytes: number): void {
    if (token !== this.#readToken || !this.active) return;
    this.#reading = false;
    if (error !== null) {
      if (error instanceof SegmentGoneError || segment.removed) {
        this.#segment = null; // re-seek by offset in the current segment list
        this.#owner.cursorReady(this);
      } else this.#owner.readFailed(this, error);
      return;
    }
    if (segment !== this.#segment || position !== this.#position) return;
    this.#chunk = buf;
    this.#chunkAt = 0;
    this.#chunkEnd = bytes;
    this.#owner.cursorReady(this);
  }

  // ---- internals ---------------------------------------------------------------------------

  #seek(offset: number): void {
    const log = this.#owner.log;
    this.nextOffset = Math.max(offset, log.firstOffset);
    this.#minTimestamp = 0;
    this.#segment = null;
  }

  /**
   * Move the disk position on: locate the segment by offset when there is none, step to the
   * next segment at the end of a sealed one, or start a read. @returns false when it has to
   * wait (a read is in flight, or nothing more is readable yet)
   */
  #advance(log: StreamLog): boolean {
    if (this.#segment === null || this.#segment.removed) {
      if (this.nextOffset < log.firstOffset) this.nextOffset = log.firstOffset;
      const p = log.positionFor(this.nextOffset);
      this.#segment = p.segment;
      this.#position = p.position;
    }
    const segment = this.#segment;
    if (this.#position >= segment.readableEnd) {
      const after = log.segmentAfter(segment);
      // only past the end of everything this segment will ever hold
      if (after === null || segment.readableEnd < segment.size) return false;
      this.#segment = after;
      this.#position = SEGMENT_HEADER_SIZE;
      return true;
    }
    this.#reading = true;
    readChunk(segment, this.#position, Math.max(CHUNK_BYTES, this.#needBytes), this, ++this.#readToken);
    this.#needBytes = 0;
    return false;
  }

  #needBytes = 0;

  /** Decode the next deliverable record of the chunk; null when the chunk is used up (then `#chunk` is null). */
  #fromChunk(log: StreamLog): Message | null {
    const buf = this.#chunk as Buffer;
    const view = this.#view;
    const maxRecord = log.options.maxRecordSize;
    while (this.#chunkAt < this.#chunkEnd) {
      const problem = readStreamRecord(buf, this.#chunkAt, this.#chunkEnd, maxRecord, view);
      if (problem === 'partial') {
        // the rest of this record is in the next read (a record larger than a chunk: read it whole)
        if (this.#chunkAt === 0) this.#needBytes = 12 + buf.readUInt32LE(4);
        break;
      }
      if (problem === 'skip') {
        this.#chunkAt += 12 + buf.readUInt32LE(this.#chunkAt + 4);
        continue;
      }
      if (problem !== null) {
        // damage in committed data (bit rot): skip the rest of this segment
        this.#owner.readFailed(this, new Error(`stream ${log.options.queueId} segment ${this.#segment?.base}: ${problem} at ${this.#position + this.#chunkAt}`));
        this.#position = (this.#segment as StreamSegment).readableEnd;
        this.#dropChunk();
        return null;
      }
      this.#chunkAt = view.end;
      if (view.offset < this.nextOffset) continue;
      if (view.offset >= log.committedOffset) {
        this.#chunkAt = view.at; // not committed yet: never deliver past the committed end (osiris#73)
        break;
      }
      if (this.#minTimestamp !== 0) {
        if (view.timestamp < this.#minTimestamp) continue;
        this.#minTimestamp = 0;
      }
      this.nextOffset = view.offset + 1;
      return messageOfRecord(buf, view);
    }
    this.#position += this.#chunkAt;
    this.#dropChunk();
    if (this.#minTimestamp !== 0 && this.#segment !== null && this.#position >= this.#segment.readableEnd && log.segmentAfter(this.#segment) === null) {
      // everything is older than the start time: start at the tail
      this.#minTimestamp = 0;
      this.nextOffset = Math.max(this.nextOffset, log.committedOffset);
    }
    return null;
  }

  #dropChunk(): void {
    this.#chunk = null;
    this.#chunkAt = this.#chunkEnd = 0;
  }
}
