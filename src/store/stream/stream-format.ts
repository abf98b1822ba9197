/**
 * On-disk format of a stream (log-mode queue): segment files and their index files. The
 * framing is the journal's (src/store/format.ts: 32-byte segment header, 12-byte record
 * header, masked CRC-32); docs/streams.md mirrors these diagrams. Little-endian throughout.
 *
 * Directory `streams/<queue id>/`, one segment per `<20-digit base offset>.ws`:
 *
 *    0        4        6        8                16               24       28       32
 *   +--------+--------+--------+----------------+----------------+--------+--------+--------
 *   | "WRNS" | version| flags  |  base offset   | created at, ms | queue  | masked | records
 *   |        |  u16=1 |  u16=0 |      u64       |      u64       | id u32 | CRC u32|
 *   +--------+--------+--------+----------------+----------------+--------+--------+--------
 *
 * STREAM_MSG record (type 0x30), payload:
 *    0 offset u64 · 8 timestamp ms u64 · 16 key length u16 · 18 exchange length u16 ·
 *   20 routing key length u16 · 22 reserved u16 · 24 properties length u32 · 28 body length u32 ·
 *   32 key · exchange · routing key (UTF-8) · properties (AMQP basic-properties bytes, with the
 *   `x-stream-offset` header already in them) · body
 *   record flags: bit 0 TOMBSTONE (compacted stream, empty body: the key is deleted),
 *   bit 1 CHUNK_START (first record of a group commit: `x-stream-offset: last` starts there),
 *   bit 2 KEY_IS_ROUTING_KEY (key length 0, the key is the routing key — stored once).
 * Offsets increase by one per message; key compaction leaves gaps, never reorders.
 *
 * Offset index `<base>.wi` (a cache: rebuilt by scanning the segment when missing or stale):
 *    0 "WRNI" · 4 version u16 · 6 entry size u16 (8) · 8 base offset u64 · 16 first offset u64 ·
 *   24 last offset u64 · 32 first timestamp u64 · 40 last timestamp u64 · 48 records u32 ·
 *   52 data end u32 (the segment size it describes) · 56 last chunk start offset u64 ·
 *   64 reserved u32 · 68 masked CRC u32 of bytes 0–67 · 72 entries: (offset − base u32,
 *   file position u32), one about every 4 KiB of records (Kafka's index.interval.bytes)
 * Time index `<base>.wt`:
 *    0 "WRNT" · 4 version u16 · 6 entry size u16 (12) · 8 base offset u64 · 16 entries u32 ·
 *   20 masked CRC u32 of bytes 0–19 · 24 entries: (timestamp u64, offset − base u32)
 * Offset values of an empty segment (no records) are written as 2^53 − 1.
 */
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, crc32, maskCrc, readU64, writeRecordHeader, writeU64 } from '../format.js';
import { checkFrame } from '../log/frame-check.js';
import { MessageFieldsView } from '../log/record-view.js';

export const STREAM_MAGIC = 'WRNS';
export const STREAM_RECORD_TYPE = 0x30;
/** The one required record type of a stream (types from 0x80 on are optional: skipped). */
export const isStreamRecordType = (type: number): boolean => type === STREAM_RECORD_TYPE;
export const STREAM_SEGMENT_SUFFIX = '.ws';
export const OFFSET_INDEX_SUFFIX = '.wi';
export const TIME_INDEX_SUFFIX = '.wt';
export const STREAM_FORMAT_VERSION = 1;

export const FLAG_TOMBSTONE = 1;
export const FLAG_CHUNK_START = 2;
export const FLAG_KEY_IS_ROUTING_KEY = 4;

export const STREAM_MSG_FIXED = 32;
/** Sparse index spacing (Kafka's default index.interval.bytes). */
export const INDEX_INTERVAL_BYTES = 4096;
export const OFFSET_INDEX_HEADER = 72;
export const OFFSET_ENTRY_SIZE = 8;
export const TIME_INDEX_HEADER = 24;
export const TIME_ENTRY_SIZE = 12;
/** Longest key, exchange or routing key a STREAM_MSG record holds (u16 lengths). */
export const MAX_FIELD_LENGTH = 0xffff;
/** "no offset" in index headers */
export const NO_OFFSET = Number.MAX_SAFE_INTEGER;

export { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE };

export const streamSegmentName = (base: number): string => `${String(base).padStart(20, '0')}${STREAM_SEGMENT_SUFFIX}`;
export const offsetIndexName = (base: number): string => `${String(base).padStart(20, '0')}${OFFSET_INDEX_SUFFIX}`;
export const timeIndexName = (base: number): string => `${String(base).padStart(20, '0')}${TIME_INDEX_SUFFIX}`;

/** @returns the base offset of a file named `<20 digits><suffix>`, or -1 for names that are not ours */
export function parseStreamFileName(name: string, suffix: string): number {
  if (name.length !== 20 + suffix.length || !name.endsWith(suffix)) return -1;
  const digits = name.slice(0, 20);
  return /^\d{20}$/.test(digits) ? Number(digits) : -1;
}

// ---- STREAM_MSG -------------------------------------------------------------------------------

/** Fields of a record to write; the key is given only when it is not the routing key. */
export interface StreamRecordFields {
  offset: number;
  timestamp: number;
  flags: number;
  /** compaction key bytes, or null when the key is the routing key (or there is no compaction) */
  key: Buffer | null;
  exchange: string;
  routingKey: string;
}

/** Upper bound of header + prefix bytes (everything before properties and body). */
export function streamPrefixBound(f: StreamRecordFields): number {
  return RECORD_HEADER_SIZE + STREAM_MSG_FIXED + (f.key ? f.key.length : 0) + 3 * (f.exchange.length + f.routingKey.length);
}

/**
 * Write the record header and the STREAM_MSG prefix at `at`. @returns the prefix end;
 * properties and body follow it (inline or as separate buffers). The CRC is left to `sealRecord`.
 */
export function writeStreamPrefix(buf: Buffer, at: number, f: StreamRecordFields, propertiesLength: number, bodyLength: number): number {
  const p = at + RECORD_HEADER_SIZE;
  writeU64(buf, p, f.offset);
  writeU64(buf, p + 8, f.timestamp);
  let q = p + STREAM_MSG_FIXED;
  let keyLength = 0;
  if (f.key) keyLength = f.key.copy(buf, q);
  q += keyLength;
  const exchangeLength = buf.write(f.exchange, q, 'utf8');
  q += exchangeLength;
  const routingKeyLength = buf.write(f.routingKey, q, 'utf8');
  q += routingKeyLength;
  if (keyLength > MAX_FIELD_LENGTH || exchangeLength > MAX_FIELD_LENGTH || routingKeyLength > MAX_FIELD_LENGTH) throw new RangeError('name longer than 65535 bytes');
  buf.writeUInt16LE(keyLength, p + 16);
  buf.writeUInt16LE(exchangeLength, p + 18);
  buf.writeUInt16LE(routingKeyLength, p + 20);
  buf.writeUInt16LE(0, p + 22);
  buf.writeUInt32LE(propertiesLength, p + 24);
  buf.writeUInt32LE(bodyLength, p + 28);
  writeRecordHeader(buf, at, q - p + propertiesLength + bodyLength, STREAM_RECORD_TYPE, f.flags);
  return q;
}

/** The decoded fields of one record; readers reuse one instance (no allocation per record). */
export class StreamRecordView extends MessageFieldsView {
  /** offset of the record header in the buffer */
  at = 0;
  /** end of the record in the buffer */
  end = 0;
  flags = 0;
  offset = 0;
  timestamp = 0;
  keyAt = 0;
  keyLength = 0;

  get tombstone(): boolean {
    return (this.flags & FLAG_TOMBSTONE) !== 0;
  }
  /** the compaction key as a string (the routing key when flagged so) */
  key(buf: Buffer): string {
    if ((this.flags & FLAG_KEY_IS_ROUTING_KEY) !== 0) return this.routingKey(buf);
    return buf.toString('utf8', this.keyAt, this.keyAt + this.keyLength);
  }
}

/** Why a record at `at` cannot be used, or null when it is whole, checksummed and decodes. */
export type RecordProblem = string | null;

/**
 * Check and decode the record at `at` of `buf[0, limit)` into `view`.
 * @returns null when good, 'partial' when the record continues past `limit` (read more),
 * or the reason it is damaged
 */
export function readStreamRecord(buf: Buffer, at: number, limit: number, maxRecordSize: number, view: StreamRecordView): RecordProblem {
  const problem = checkFrame(buf, at, limit, maxRecordSize);
  if (problem !== null) return problem;
  const type = buf[at + 8];
  if (type !== STREAM_RECORD_TYPE) return type >= 0x80 ? 'skip' : `unknown record type 0x${type.toString(16)}`;
  return decodeStreamRecord(buf, at, view);
}

/** Decode the STREAM_MSG record at `at`, its framing already checked, into `view`. @returns null, or why it does not decode */
export function decodeStreamRecord(buf: Buffer, at: number, view: StreamRecordView): RecordProblem {
  const length = buf.readUInt32LE(at + 4);
  if (length < STREAM_MSG_FIXED) return 'record too short';
  const p = at + RECORD_HEADER_SIZE;
  const end = p + length;
  view.at = at;
  view.end = end;
  view.flags = buf[at + 9];
  view.offset = readU64(buf, p);
  view.timestamp = readU64(buf, p + 8);
  view.keyLength = buf.readUInt16LE(p + 16);
  view.exchangeLength = buf.readUInt16LE(p + 18);
  view.routingKeyLength = buf.readUInt16LE(p + 20);
  view.propertiesLength = buf.readUInt32LE(p + 24);
  view.bodyLength = buf.readUInt32LE(p + 28);
  view.keyAt = p + STREAM_MSG_FIXED;
  view.exchangeAt = view.keyAt + view.keyLength;
  view.routingKeyAt = view.exchangeAt + view.exchangeLength;
  view.propertiesAt = view.routingKeyAt + view.routingKeyLength;
  view.bodyAt = view.propertiesAt + view.propertiesLength;
  return view.bodyAt + view.bodyLength === end ? null : 'fields do not fit the record';
}

// ---- index files ---------------------------------------------------------------------------------

/** What an offset index header says about its segment. */
export interface SegmentSummary {
  base: number;
  firstOffset: number;
  lastOffset: number;
  firstTimestamp: number;
  lastTimestamp: number;
  records: number;
  dataEnd: number;
  lastChunkStart: number;
}

export function encodeOffsetIndexHeader(s: SegmentSummary): Buffer {
  const b = Buffer.alloc(OFFSET_INDEX_HEADER);
  b.write('WRNI', 0, 'latin1');
  b.writeUInt16LE(STREAM_FORMAT_VERSION, 4);
  b.writeUInt16LE(OFFSET_ENTRY_SIZE, 6);
  writeU64(b, 8, s.base);
  writeU64(b, 16, s.records > 0 ? s.firstOffset : NO_OFFSET);
  writeU64(b, 24, s.records > 0 ? s.lastOffset : NO_OFFSET);
  writeU64(b, 32, s.firstTimestamp);
  writeU64(b, 40, s.lastTimestamp);
  b.writeUInt32LE(s.records, 48);
  b.writeUInt32LE(s.dataEnd, 52);
  writeU64(b, 56, s.lastChunkStart >= 0 ? s.lastChunkStart : NO_OFFSET);
  b.writeUInt32LE(maskCrc(crc32(b.subarray(0, 68))), 68);
  return b;
}

/** @returns the summary, or null when the header is not a valid one */
export function decodeOffsetIndexHeader(b: Buffer): SegmentSummary | null {
  if (b.length < OFFSET_INDEX_HEADER || b.toString('latin1', 0, 4) !== 'WRNI') return null;
  if (b.readUInt32LE(68) !== maskCrc(crc32(b.subarray(0, 68)))) return null;
  if (b.readUInt16LE(4) !== STREAM_FORMAT_VERSION || b.readUInt16LE(6) !== OFFSET_ENTRY_SIZE) return null;
  const records = b.readUInt32LE(48);
  const first = readU64(b, 16);
  const last = readU64(b, 24);
  const chunk = readU64(b, 56);
  return {
    base: readU64(b, 8),
    firstOffset: records > 0 ? first : -1,
    lastOffset: records > 0 ? last : -1,
    firstTimestamp: readU64(b, 32),
    lastTimestamp: readU64(b, 40),
    records,
    dataEnd: b.readUInt32LE(52),
    lastChunkStart: chunk === NO_OFFSET ? -1 : chunk,
  };
}

export function encodeTimeIndexHeader(base: number, entries: number): Buffer {
  const b = Buffer.alloc(TIME_INDEX_HEADER);
  b.write('WRNT', 0, 'latin1');
  b.writeUInt16LE(STREAM_FORMAT_VERSION, 4);
  b.writeUInt16LE(TIME_ENTRY_SIZE, 6);
  writeU64(b, 8, base);
  b.writeUInt32LE(entries, 16);
  b.writeUInt32LE(maskCrc(crc32(b.subarray(0, 20))), 20);
  return b;
}

/** @returns the entry count, or -1 when the header is not valid for `base` */
export function decodeTimeIndexHeader(b: Buffer, base: number): number {
  if (b.length < TIME_INDEX_HEADER || b.toString('latin1', 0, 4) !== 'WRNT') return -1;
  if (b.readUInt32LE(20) !== maskCrc(crc32(b.subarray(0, 20)))) return -1;
  if (b.readUInt16LE(6) !== TIME_ENTRY_SIZE || readU64(b, 8) !== base) return -1;
  return b.readUInt32LE(16);
}
