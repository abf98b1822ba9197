/**
 * Bodies larger than memory: a body streamed into the journal as BODY_PART records while it
 * arrives, and read back from there a piece at a time (docs/store.md "Large bodies").
 *
 *   BODY_PART payload: body id u64 · body offset u64 · bytes
 *   part list (the body field of a MSG flagged MSG_FLAG_BODY_PARTS):
 *     body id u64 · body size u64 · n u32 · n × (segment u32 · offset u32 · record length u32)
 *
 * Each part is an ordinary record of the journal (its own CRC, placed, group-committed and
 * bounded by `roundBytes` like any other). The MSG naming the parts is appended after the
 * last one, so once it is durable every part is; after a crash, parts no MSG names are
 * garbage and their segments are reclaimed like any dead record's.
 *
 * Liveness: a segment holding parts of a body is kept (`SegmentTable.retainParts`) while the
 * body is alive — while it is being written, while a queue entry of the store names its MSG,
 * or while any `LargeBody` object for it is reachable (a message in memory, a delivery being
 * streamed). The last case is watched by a FinalizationRegistry: reclaim waits for the
 * garbage collector, never the other way round.
 */
import { RECORD_HEADER_SIZE, RecordType, readU64, sealRecord, writeRecordHeader, writeU64 } from './format.js';
import type { SegmentTable } from './segment-table.js';

export const BODY_PART_PREFIX = 16;
const PART_HEAD = RECORD_HEADER_SIZE + BODY_PART_PREFIX;
/** Frames are gathered into parts of this size: the part list stays short whatever frame size the client uses. */
export const PART_BYTES = 256 * 1024;
const PART_LIST_HEAD = 20;
const PART_ENTRY = 12;

/** What a body's segments are kept alive by: one count for everything that names the body. */
export class BodyRetention {
  /** segments holding its parts, each retained once */
  readonly segments: number[] = [];
  #refs = 0;
  readonly #table: SegmentTable;

  constructor(table: SegmentTable) {
    this.#table = table;
  }

  addSegment(segment: number): void {
    if (this.segments.length > 0 && this.segments[this.segments.length - 1] === segment) return;
    this.segments.push(segment);
    this.#table.retainParts(segment);
  }

  hold(): void {
    this.#refs++;
  }

  release(): void {
    if (--this.#refs !== 0) return;
    for (const s of this.segments) this.#table.releaseParts(s);
    this.segments.length = 0;
  }
}

const unreachable = new FinalizationRegistry<BodyRetention>((retention) => retention.release());

/** Reads a body's parts: the store's positional reads, after the journal wrote them. */
export interface BodySource {
  readParts(body: LargeBody, from: number, maxBytes: number, cb: (error: Error | null, chunks: Buffer[], next: number) => void): void;
}

/**
 * A message body kept in the journal: its size and where its parts are. Immutable and shared
 * by every message and queue entry naming it (a dead-lettered copy or a fan-out names the same
 * stored bytes). Read it with `read`, a few parts at a time.
 */
export class LargeBody {
  readonly id: number;
  readonly size: number;
  /** per part: segment, offset, record length (flat) */
  readonly parts: readonly number[];
  readonly retention: BodyRetention;
  readonly #source: BodySource;

  constructor(id: number, size: number, parts: readonly number[], retention: BodyRetention, source: BodySource) {
    this.id = id;
    this.size = size;
    this.parts = parts;
    this.retention = retention;
    this.#source = source;
    retention.hold();
    unreachable.register(this, retention);
  }

  get partCount(): number {
    return this.parts.length / 3;
  }

  /**
   * Read parts from index `from` on, at least one and about `maxBytes` in all: `cb` gets their
   * bytes in order (views of one read) and the index of the next part (= partCount at the end).
   */
  read(from: number, maxBytes: number, cb: (error: Error | null, chunks: Buffer[], next: number) => void): void {
    this.#source.readParts(this, from, maxBytes, cb);
  }

  /** The part list, the body field of its MSG record. */
  encodeParts(): Buffer {
    const n = this.partCount;
    const b = Buffer.allocUnsafe(PART_LIST_HEAD + n * PART_ENTRY);
    writeU64(b, 0, this.id);
    writeU64(b, 8, this.size);
    b.writeUInt32LE(n, 16);
    for (let i = 0, p = PART_LIST_HEAD; i < this.parts.length; i++, p += 4) b.writeUInt32LE(this.parts[i], p);
    return b;
  }
}

/** A part list read back: id, size and part locations, or null when it does not decode. */
export function decodePartList(b: Buffer): { id: number; size: number; parts: number[] } | null {
  if (b.length < PART_LIST_HEAD) return null;
  const n = b.readUInt32LE(16);
  if (b.length !== PART_LIST_HEAD + n * PART_ENTRY) return null;
  const parts = new Array<number>(n * 3);
  for (let i = 0, p = PART_LIST_HEAD; i < n * 3; i++, p += 4) parts[i] = b.readUInt32LE(p);
  return { id: readU64(b, 0), size: readU64(b, 8), parts };
}

/** Where a writer appends its parts (the journal). */
export interface PartSink {
  appendRecordParts(parts: Buffer[], length: number, type: number): number;
  whenWritten(lsn: number, cb: (error: Error | null) => void): void;
  readonly pendingBytes: number;
  readonly appendedLsn: number;
  readonly lastSegment: number;
  readonly lastOffset: number;
  readonly lastLength: number;
}

/**
 * One body being received: its bytes gathered into parts of PART_BYTES, each appended to the
 * journal as soon as it is full. At most one part is held here; what the journal has not
 * written yet is the caller's to bound (`FileStore.bodyBacklog`).
 */
export class LargeBodyWriter {
  readonly id: number;
  size: number;
  received = 0;
  readonly #sink: PartSink;
  readonly #source: BodySource;
  readonly #retention: BodyRetention;
  readonly #parts: number[] = [];
  #fill: Buffer | null = null;
  #filled = 0;
  #written = 0;
  #done = false;
  readonly #onAppend: (bytes: number) => void;

  constructor(id: number, size: number, sink: PartSink, table: SegmentTable, source: BodySource, onAppend: (bytes: number) => void) {
    this.id = id;
    this.size = size;
    this.#sink = sink;
    this.#source = source;
    this.#retention = new BodyRetention(table);
    this.#retention.hold(); // the writer's own, until finish or abort (or until nothing holds the writer)
    unreachable.register(this, this.#retention, this);
    this.#onAppend = onAppend;
  }

  /** The exact size, when only a bound was known at the start (an MQTT payload: its packet's remaining length). */
  setSize(size: number): void {
    if (this.received > 0 || this.#fill !== null || size > this.size) throw new RangeError(`cannot resize a body to ${size} bytes`);
    this.size = size;
  }

  /** bytes appended to the journal (this body's and others') not written yet: the source pauses past a bound */
  get backlog(): number {
    return this.#sink.pendingBytes;
  }

  /** `cb` once the journal wrote everything appended so far */
  whenWritten(cb: (error: Error | null) => void): void {
    this.#sink.whenWritten(this.#sink.appendedLsn, cb);
  }

  /**
   * Room for `size` bytes in the part being filled (a frame reader assembles a split frame
   * there: the bytes are copied once), or null when they would not fit in it.
   */
  target(size: number): Buffer | null {
    const fill = this.#fillBuffer();
    return this.#filled + size <= fill.length ? fill.subarray(this.#filled, this.#filled + size) : null;
  }

  /** The next bytes of the body (copied; a `target` given back is taken in place). */
  append(chunk: Buffer): void {
    if (this.received + chunk.length > this.size) throw new RangeError(`body of ${this.received + chunk.length} bytes exceeds the ${this.size} announced`);
    const fill = this.#fillBuffer();
    if (chunk.buffer === fill.buffer && chunk.byteOffset === fill.byteOffset + this.#filled) {
      this.#filled += chunk.length;
      this.received += chunk.length;
      this.#flushIfFull();
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      const f = this.#fillBuffer();
      const n = chunk.copy(f, this.#filled, at);
      this.#filled += n;
      at += n;
      this.received += n;
      this.#flushIfFull();
    }
  }

  /** All bytes arrived: the last part goes out; @returns the body, to be named by a MSG record. */
  finish(): LargeBody {
    if (this.received !== this.size) throw new RangeError(`body has ${this.received} of ${this.size} bytes`);
    if (this.#filled > 0) this.#appendPart();
    this.#done = true;
    unreachable.unregister(this);
    const body = new LargeBody(this.id, this.size, this.#parts, this.#retention, this.#source);
    this.#retention.release(); // the body holds it now
    return body;
  }

  /** Given up mid-body (channel or connection closed): the parts become garbage. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    unreachable.unregister(this);
    this.#fill = null;
    this.#retention.release();
  }

  #fillBuffer(): Buffer {
    if (this.#fill === null) {
      this.#fill = Buffer.allocUnsafe(Math.min(PART_BYTES, this.size - this.#written));
      this.#filled = 0;
    }
    return this.#fill;
  }

  #flushIfFull(): void {
    if (this.#fill !== null && this.#filled === this.#fill.length) this.#appendPart();
  }

  #appendPart(): void {
    const bytes = (this.#fill as Buffer).subarray(0, this.#filled);
    const head = Buffer.allocUnsafe(PART_HEAD);
    writeRecordHeader(head, 0, BODY_PART_PREFIX + bytes.length, RecordType.BODY_PART);
    writeU64(head, RECORD_HEADER_SIZE, this.id);
    writeU64(head, RECORD_HEADER_SIZE + 8, this.#written);
    sealRecord(head, bytes);
    const sink = this.#sink;
    sink.appendRecordParts([head, bytes], PART_HEAD + bytes.length, RecordType.BODY_PART);
    this.#parts.push(sink.lastSegment, sink.lastOffset, sink.lastLength);
    this.#retention.addSegment(sink.lastSegment);
    this.#written += bytes.length;
    this.#fill = null;
    this.#filled = 0;
    this.#onAppend(PART_HEAD + bytes.length);
  }
}

/**
 * Check a BODY_PART record read back at `at` (framing already checked) and return its bytes:
 * null when it is not the part of body `id` at body offset `offset`.
 */
export function partBytes(buf: Buffer, at: number, length: number, id: number, offset: number): Buffer | null {
  if (buf[at + 8] !== RecordType.BODY_PART || length < PART_HEAD) return null;
  if (readU64(buf, at + RECORD_HEADER_SIZE) !== id || readU64(buf, at + RECORD_HEADER_SIZE + 8) !== offset) return null;
  return buf.subarray(at + PART_HEAD, at + length);
}
