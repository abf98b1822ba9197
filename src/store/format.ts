/**
 * On-disk format of the message journal: segment header, record framing, record payloads.
 * docs/store.md mirrors these diagrams and gives the reasons. All integers little-endian;
 * u64 values are JS numbers below 2^53 written as two u32 halves.
 *
 * Segment file `<20-digit segment number>.wj`, one journal (= one vhost) per directory:
 *
 *    0        4        6        8                16               24       28       32
 *   +--------+--------+--------+----------------+----------------+--------+--------+----------
 *   | "WRNJ" | version| flags  | segment number | created at, ms | journal| masked | records…
 *   |        |  u16=1 |  u16=0 |      u64       |      u64       | id u32 | CRC u32|
 *   +--------+--------+--------+----------------+----------------+--------+--------+----------
 *   header CRC covers bytes 0–27.
 *
 * Record (no padding, no alignment), 12-byte header then `length` payload bytes:
 *
 *    0               4               8      9      10             12
 *   +---------------+---------------+------+------+--------------+---------------------+
 *   | masked CRC u32| length u32    | type | flags| reserved u16 | payload (length B)  |
 *   +---------------+---------------+------+------+--------------+---------------------+
 *   CRC-32 (IEEE, zlib.crc32) over bytes 4 … end of payload, masked as RocksDB does
 *   (a CRC over bytes that embed CRCs stays meaningful). CRC and length both zero = no
 *   data here (zero-filled space). Types ≥ 0x80 are optional: a reader that does not know
 *   one skips it; an unknown type below 0x80 is corruption.
 *
 * LSN of a record = segment number × 2^32 + byte offset of the record's *end*: monotonic,
 * never stored. Segment numbers therefore stay below 2^21 (and segments below 4 GiB).
 *
 * MSG (0x01) — a persistent message, written once for all the durable queues it reached:
 *    0 msg id u64 · 8 published-at ms u64 · 16 expires-at ms u64 (0 = never) · 24 priority u8 ·
 *   25 flags u8 (bit 0 TRANSIENT: paged out of memory, not recovered) · 26 target count n u16 ·
 *   28 n × (queue id u32 · queue seq u64) ·
 *   exchange (u16 length + UTF-8) · routing key (u16 length + UTF-8) ·
 *   properties length u32 · body length u32 · properties bytes · body bytes
 *   Everything small comes first, so recovery and compaction read targets without the body,
 *   and the writer hands properties and body to writev as they are (no copy).
 *
 * ACK (0x02) — entries that left a queue (acked, expired, dropped, dead-lettered, rejected):
 *   queue id u32 · n u32 · n × (first seq u64 · run length u32)   — runs of consecutive seqs
 *
 * PURGE (0x03) — every seq ≤ up-to is gone except the kept ones (delivered and unacked at the
 * time, which AMQP queue.purge leaves alone — AMQP 0-9-1 §1.7.2.7 "queue.purge"):
 *   queue id u32 · up-to seq u64 · n u32 · n × kept seq u64
 *
 * QUEUE_DELETE (0x04): queue id u32
 *
 * DELIVERED (0x81, optional) — written at a clean stop: these live entries had been delivered,
 * so they come back flagged redelivered (AMQP 0-9-1 §1.8.3.9 basic.deliver "redelivered"):
 *   queue id u32 · n u32 · n × (first seq u64 · run length u32)
 */
import { crc32 } from 'node:zlib';
import { MessageFieldsView } from './log/record-view.js';

export const SEGMENT_MAGIC = 'WRNJ';
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 32;
export const RECORD_HEADER_SIZE = 12;
export const SEGMENT_FILE_SUFFIX = '.wj';
/** LSN = segment × 2^32 + end offset */
export const LSN_SEGMENT_FACTOR = 2 ** 32;
export const MAX_SEGMENT_NUMBER = 2 ** 21 - 1;

export const RecordType = {
  MSG: 0x01,
  ACK: 0x02,
  PURGE: 0x03,
  QUEUE_DELETE: 0x04,
  /** part of a body streamed in before its MSG (large-body.ts); 0x05 stays reserved for BATCH */
  BODY_PART: 0x06,
  DELIVERED: 0x81,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

/** Types a reader must understand; optional types (≥ 0x80) may be skipped. */
export function isKnownType(type: number): boolean {
  return type >= 0x01 && type <= 0x04 ? true : type === RecordType.BODY_PART || type === RecordType.DELIVERED;
}
export const isOptionalType = (type: number): boolean => type >= 0x80;

/** Size of the MSG fields before the exchange name, per target count. */
export const MSG_FIXED_SIZE = 28;
export const MSG_TARGET_SIZE = 12;

// ---- CRC ------------------------------------------------------------------------------------

const CRC_MASK_DELTA = 0xa282ead8;

/** RocksDB's mask: rotate right by 15 and add a constant (util/crc32c.h). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + CRC_MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - CRC_MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

export { crc32 };

// ---- integers ---------------------------------------------------------------------------------

export function writeU64(buf: Buffer, offset: number, value: number): void {
  const hi = Math.floor(value / LSN_SEGMENT_FACTOR);
  const lo = value - hi * LSN_SEGMENT_FACTOR;
  // byte stores: cheaper than two checked writeUInt32LE calls on the append path
  buf[offset] = lo;
  buf[offset + 1] = lo >>> 8;
  buf[offset + 2] = lo >>> 16;
  buf[offset + 3] = lo >>> 24;
  buf[offset + 4] = hi;
  buf[offset + 5] = hi >>> 8;
  buf[offset + 6] = hi >>> 16;
  buf[offset + 7] = hi >>> 24;
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * LSN_SEGMENT_FACTOR;
}

export const lsnOf = (segment: number, endOffset: number): number => segment * LSN_SEGMENT_FACTOR + endOffset;
export const lsnSegment = (lsn: number): number => Math.floor(lsn / LSN_SEGMENT_FACTOR);
export const lsnOffset = (lsn: number): number => lsn % LSN_SEGMENT_FACTOR;

// ---- segment header ---------------------------------------------------------------------------

export interface SegmentHeader {
  segment: number;
  createdAt: number;
  journalId: number;
}

/** @param magic 'WRNJ' for journal segments, 'WRNX' for the clean-shutdown snapshot (snapshot.ts) */
export function encodeSegmentHeader(h: SegmentHeader, magic = SEGMENT_MAGIC): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_SIZE);
  b.write(magic, 0, 'latin1');
  b.writeUInt16LE(FORMAT_VERSION, 4);
  b.writeUInt16LE(0, 6);
  writeU64(b, 8, h.segment);
  writeU64(b, 16, h.createdAt);
  b.writeUInt32LE(h.journalId, 24);
  b.writeUInt32LE(maskCrc(crc32(b.subarray(0, 28))), 28);
  return b;
}

/** @returns the header, or a reason it is not a valid one */
export function decodeSegmentHeader(b: Buffer, magic = SEGMENT_MAGIC): SegmentHeader | string {
  if (b.length < SEGMENT_HEADER_SIZE) return 'short header';
  if (b.toString('latin1', 0, 4) !== magic) return 'bad magic';
  if (b.readUInt32LE(28) !== maskCrc(crc32(b.subarray(0, 28)))) return 'header checksum mismatch';
  const version = b.readUInt16LE(4);
  if (version !== FORMAT_VERSION) return `unsupported format version ${version}`;
  return { segment: readU64(b, 8), createdAt: readU64(b, 16), journalId: b.readUInt32LE(24) };
}

export const segmentFileName = (segment: number): string =>
  `${String(segment).padStart(20, '0')}${SEGMENT_FILE_SUFFIX}`;

/** @returns the segment number of a journal file name, or -1 for names that are not ours */
export function parseSegmentFileName(name: string): number {
  if (name.length !== 20 + SEGMENT_FILE_SUFFIX.length || !name.endsWith(SEGMENT_FILE_SUFFIX)) return -1;
  const digits = name.slice(0, 20);
  if (!/^\d{20}$/.test(digits)) return -1;
  return Number(digits);
}

// ---- record header ------------------------------------------------------------------------------

/** Write a record header whose CRC still has to be filled in by `sealRecord`. */
export function writeRecordHeader(buf: Buffer, offset: number, payloadLength: number, type: number, flags = 0): void {
  buf.writeUInt32LE(0, offset);
  buf.writeUInt32LE(payloadLength, offset + 4);
  buf[offset + 8] = type;
  buf[offset + 9] = flags;
  buf.writeUInt16LE(0, offset + 10);
}

/**
 * Fill in the CRC of a record whose header starts `head[0]` and whose payload continues in
 * `tail` buffers (properties and body are checksummed where they lie: no copy).
 */
export function sealRecord(head: Buffer, tail1?: Buffer, tail2?: Buffer): void {
  let c = crc32(head.subarray(4));
  if (tail1 !== undefined && tail1.length > 0) c = crc32(tail1, c);
  if (tail2 !== undefined && tail2.length > 0) c = crc32(tail2, c);
  head.writeUInt32LE(maskCrc(c), 0);
}

/** Verify the record at `offset` in `buf` (header and whole payload present). */
export function recordCrcOk(buf: Buffer, offset: number, payloadLength: number): boolean {
  const c = crc32(buf.subarray(offset + 4, offset + RECORD_HEADER_SIZE + payloadLength));
  return maskCrc(c) === buf.readUInt32LE(offset);
}

// ---- MSG --------------------------------------------------------------------------------------------

/** What the MSG encoder needs; the journal passes the caller's values straight through. */
export interface MsgFields {
  msgId: number;
  publishedAt: number;
  expiresAt: number;
  priority: number;
  /** MSG_FLAG_* bits */
  flags: number;
  exchange: string;
  routingKey: string;
}

/**
 * A transient message written only to keep a deep queue's memory bounded: readable like any
 * other while the broker runs, ignored by recovery (a transient message never survives a
 * restart), never waited on for durability.
 */
export const MSG_FLAG_TRANSIENT = 1;
/** The body field holds a part list (large-body.ts): the body is in BODY_PART records before it. */
export const MSG_FLAG_BODY_PARTS = 2;

/** Upper bound of the MSG prefix size (everything but properties and body bytes). */
export function msgPrefixBound(exchange: string, routingKey: string, targetCount: number): number {
  return MSG_FIXED_SIZE + targetCount * MSG_TARGET_SIZE + 4 + 3 * (exchange.length + routingKey.length) + 8;
}

/**
 * Write header + MSG prefix at `offset`. @returns the prefix end (the properties and body
 * follow it in the record). The CRC is left for `sealRecord`.
 */
export function writeMsgPrefix(
  buf: Buffer,
  offset: number,
  f: MsgFields,
  queueIds: ArrayLike<number>,
  seqs: ArrayLike<number>,
  count: number,
  properties: Buffer,
  body: Buffer,
): number {
  let p = offset + RECORD_HEADER_SIZE;
  writeU64(buf, p, f.msgId);
  writeU64(buf, p + 8, f.publishedAt);
  writeU64(buf, p + 16, f.expiresAt);
  buf[p + 24] = f.priority;
  buf[p + 25] = f.flags;
  buf.writeUInt16LE(count, p + 26);
  p += MSG_FIXED_SIZE;
  for (let i = 0; i < count; i++) {
    buf.writeUInt32LE(queueIds[i], p);
    writeU64(buf, p + 4, seqs[i]);
    p += MSG_TARGET_SIZE;
  }
  p = writeShortString(buf, p, f.exchange);
  p = writeShortString(buf, p, f.routingKey);
  buf.writeUInt32LE(properties.length, p);
  buf.writeUInt32LE(body.length, p + 4);
  p += 8;
  const payload = p - offset - RECORD_HEADER_SIZE + properties.length + body.length;
  writeRecordHeader(buf, offset, payload, RecordType.MSG);
  return p;
}

function writeShortString(buf: Buffer, p: number, s: string): number {
  const n = buf.write(s, p + 2, 'utf8');
  if (n > 0xffff) throw new RangeError('name longer than 65535 bytes');
  buf.writeUInt16LE(n, p);
  return p + 2 + n;
}

/** The decoded MSG prefix; one instance is reused while scanning (no allocation per record). */
export class MsgView extends MessageFieldsView {
  msgId = 0;
  publishedAt = 0;
  expiresAt = 0;
  priority = 0;
  flags = 0;
  targetCount = 0;
  /** offset of the first target in the buffer */
  targetsAt = 0;

  targetQueue(buf: Buffer, i: number): number {
    return buf.readUInt32LE(this.targetsAt + i * MSG_TARGET_SIZE);
  }
  targetSeq(buf: Buffer, i: number): number {
    return readU64(buf, this.targetsAt + i * MSG_TARGET_SIZE + 4);
  }
}

/**
 * Decode the MSG payload at `payloadAt` (length `payloadLength`) into `view`.
 * @returns false when the fields do not fit the payload (corruption the CRC missed — or a
 * writer bug: either way the record is unusable)
 */
export function readMsg(buf: Buffer, payloadAt: number, payloadLength: number, view: MsgView): boolean {
  const end = payloadAt + payloadLength;
  if (payloadLength < MSG_FIXED_SIZE + 12) return false;
  view.msgId = readU64(buf, payloadAt);
  view.publishedAt = readU64(buf, payloadAt + 8);
  view.expiresAt = readU64(buf, payloadAt + 16);
  view.priority = buf[payloadAt + 24];
  view.flags = buf[payloadAt + 25];
  view.targetCount = buf.readUInt16LE(payloadAt + 26);
  view.targetsAt = payloadAt + MSG_FIXED_SIZE;
  let p = view.targetsAt + view.targetCount * MSG_TARGET_SIZE;
  if (p + 2 > end) return false;
  view.exchangeLength = buf.readUInt16LE(p);
  view.exchangeAt = p + 2;
  p = view.exchangeAt + view.exchangeLength;
  if (p + 2 > end) return false;
  view.routingKeyLength = buf.readUInt16LE(p);
  view.routingKeyAt = p + 2;
  p = view.routingKeyAt + view.routingKeyLength;
  if (p + 8 > end) return false;
  view.propertiesLength = buf.readUInt32LE(p);
  view.bodyLength = buf.readUInt32LE(p + 4);
  view.propertiesAt = p + 8;
  view.bodyAt = view.propertiesAt + view.propertiesLength;
  return view.bodyAt + view.bodyLength === end;
}

// ---- ACK / DELIVERED (seq runs), PURGE, QUEUE_DELETE --------------------------------------------------

/**
 * Sort `seqs` in place and count its runs of consecutive values (duplicates collapse).
 * @returns the number of runs
 */
export function countRuns(seqs: number[]): number {
  if (seqs.length === 0) return 0;
  seqs.sort(numeric);
  let runs = 1;
  for (let i = 1; i < seqs.length; i++) if (seqs[i] > seqs[i - 1] + 1) runs++;
  return runs;
}

const numeric = (a: number, b: number): number => a - b;

/** Encode an ACK or DELIVERED record (header included) from sorted seqs with `runs` runs. */
export function encodeRunsRecord(type: number, queueId: number, sortedSeqs: readonly number[], runs: number): Buffer {
  const payload = 8 + runs * 12;
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload);
  writeRecordHeader(b, 0, payload, type);
  b.writeUInt32LE(queueId, 12);
  b.writeUInt32LE(runs, 16);
  let p = 20;
  let i = 0;
  const n = sortedSeqs.length;
  while (i < n) {
    const first = sortedSeqs[i];
    let last = first;
    i++;
    while (i < n && sortedSeqs[i] <= last + 1) last = sortedSeqs[i++];
    writeU64(b, p, first);
    b.writeUInt32LE(last - first + 1, p + 8);
    p += 12;
  }
  sealRecord(b);
  return b;
}

export function encodePurgeRecord(queueId: number, upToSeq: number, kept: readonly number[]): Buffer {
  const payload = 16 + kept.length * 8;
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload);
  writeRecordHeader(b, 0, payload, RecordType.PURGE);
  b.writeUInt32LE(queueId, 12);
  writeU64(b, 16, upToSeq);
  b.writeUInt32LE(kept.length, 24);
  for (let i = 0; i < kept.length; i++) writeU64(b, 28 + i * 8, kept[i]);
  sealRecord(b);
  return b;
}

export function encodeQueueDeleteRecord(queueId: number): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE + 4);
  writeRecordHeader(b, 0, 4, RecordType.QUEUE_DELETE);
  b.writeUInt32LE(queueId, 12);
  sealRecord(b);
  return b;
}

/** Runs of an ACK/DELIVERED payload; @returns -1 when the counts do not fit the payload */
export function runsRecordCount(buf: Buffer, payloadAt: number, payloadLength: number): number {
  if (payloadLength < 8) return -1;
  const n = buf.readUInt32LE(payloadAt + 4);
  return payloadLength === 8 + n * 12 ? n : -1;
}

/** Kept-seq count of a PURGE payload; @returns -1 when it does not fit the payload */
export function purgeKeptCount(buf: Buffer, payloadAt: number, payloadLength: number): number {
  if (payloadLength < 16) return -1;
  const n = buf.readUInt32LE(payloadAt + 12);
  return payloadLength === 16 + n * 8 ? n : -1;
}
