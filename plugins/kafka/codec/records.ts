/**
 * Record batches, magic 2 (KIP-98; kafka.apache.org/documentation "Record Batch"):
 *
 * ```
 *  0 baseOffset int64 · 8 batchLength int32 (bytes after this field) · 12 partitionLeaderEpoch int32 ·
 * 16 magic int8 = 2 · 17 crc uint32 (CRC-32C of byte 21 to the end) · 21 attributes int16 ·
 * 23 lastOffsetDelta int32 · 27 baseTimestamp int64 · 35 maxTimestamp int64 · 43 producerId int64 ·
 * 51 producerEpoch int16 · 53 baseSequence int32 · 57 record count int32 · 61 records (compressed as one block)
 * record: length varint · attributes int8 · timestampDelta varlong · offsetDelta varint ·
 *         keyLength varint (-1 null) · key · valueLength varint · value · header count varint ·
 *         [keyLength varint · key · valueLength varint · value]
 * attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) · bit 3 log-append
 *             time · bit 4 transactional · bit 5 control batch
 * ```
 */
import { gzipSync } from 'node:zlib';
import { BatchError, type InflateBudget } from './batch-error.js';
import { COMPRESSION_GZIP, COMPRESSION_NONE, decompress } from './compression.js';
import { crc32c } from './crc32c.js';
import { KafkaDecodeError, Reader } from './reader.js';
import { Writer } from './writer.js';

export { BatchError, type InflateBudget } from './batch-error.js';
export { COMPRESSION_NONE, COMPRESSION_GZIP } from './compression.js';

export const BATCH_HEADER_SIZE = 61;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** absolute offset (decoding: baseOffset + offsetDelta as the client sent it) */
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordBatch {
  baseOffset: number;
  attributes: number;
  compression: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
  control: boolean;
  records: KafkaRecord[];
}

/**
 * Decode the record batches of a produce request's partition (one or more back to back).
 * The CRC is checked before anything else is read; compressed records are inflated within
 * what is `left` of `budget` (and take it): compression.ts.
 * Throws BatchError (CORRUPT_MESSAGE 2, INVALID_RECORD 87, UNSUPPORTED_FOR_MESSAGE_FORMAT 43,
 * UNSUPPORTED_COMPRESSION_TYPE 76, MESSAGE_TOO_LARGE 10).
 */
export function decodeBatches(buf: Buffer, budget: InflateBudget): RecordBatch[] {
  const out: RecordBatch[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < BATCH_HEADER_SIZE) throw new BatchError(2, 'truncated record batch');
    const batchLength = buf.readInt32BE(at + 8);
    const end = at + 12 + batchLength;
    if (batchLength < BATCH_HEADER_SIZE - 12 || end > buf.length) throw new BatchError(2, 'record batch length beyond the data');
    const magic = buf.readInt8(at + 16);
    if (magic !== 2) throw new BatchError(43, `message format v${magic} is not supported (record batches v2 only)`);
    if (crc32c(buf, at + 21, end) !== buf.readUInt32BE(at + 17)) throw new BatchError(2, 'record batch CRC mismatch');
    out.push(decodeBatch(buf.subarray(at, end), budget));
    at = end;
  }
  return out;
}

function decodeBatch(buf: Buffer, budget: InflateBudget): RecordBatch {
  const r = new Reader(buf, 0);
  const baseOffset = r.int64();
  r.int32(); // batch length
  r.int32(); // partition leader epoch
  r.int8(); // magic
  r.uint32(); // crc
  const attributes = r.int16();
  const lastOffsetDelta = r.int32();
  const baseTimestamp = r.int64();
  const maxTimestamp = r.int64();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const baseSequence = r.int32();
  const count = r.int32();
  const compression = attributes & 0x07;
  const body = compression === COMPRESSION_NONE ? r : new Reader(decompress(compression, r.raw(r.remaining), budget));
  if (count < 0 || count > body.remaining) throw new BatchError(87, `record count ${count} does not fit the batch`);
  const records: KafkaRecord[] = new Array(count);
  try {
    for (let i = 0; i < count; i++) records[i] = decodeRecord(body, baseOffset, baseTimestamp);
  } catch (e) {
    if (e instanceof KafkaDecodeError) throw new BatchError(87, `malformed record: ${e.message}`);
    throw e;
  }
  if (body.remaining !== 0) throw new BatchError(87, 'bytes after the last record of a batch');
  return {
    baseOffset,
    attributes,
    compression,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    transactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    control: (attributes & ATTR_CONTROL) !== 0,
    records,
  };
}

function decodeRecord(r: Reader, baseOffset: number, baseTimestamp: number): KafkaRecord {
  const length = r.varint();
  if (length < 0 || length > r.remaining) throw new KafkaDecodeError('record length beyond the batch');
  const end = r.pos + length;
  const rr = new Reader(r.buf, r.pos, end);
  rr.int8(); // attributes (unused)
  const timestamp = baseTimestamp + rr.varlong();
  const offset = baseOffset + rr.varint();
  const key = varBytes(rr);
  const value = varBytes(rr);
  const n = rr.varint();
  if (n < 0 || n > rr.remaining) throw new KafkaDecodeError('header count beyond the record');
  const headers: RecordHeader[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kl = rr.varint();
    if (kl < 0) throw new KafkaDecodeError('null header key');
    const key = rr.raw(kl).toString('utf8');
    headers[i] = { key, value: varBytes(rr) };
  }
  if (rr.remaining !== 0) throw new KafkaDecodeError('bytes after the last field of a record');
  r.pos = end;
  return { offset, timestamp, key, value, headers };
}

function varBytes(r: Reader): Buffer | null {
  const n = r.varint();
  return n < 0 ? null : r.raw(n);
}

export interface EncodeOptions {
  compression?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/**
 * One record batch holding `records` (offsets ascending, gaps allowed: compaction leaves
 * them and consumers take the offsets as written). Uncompressed, the records are written
 * straight after the header in one buffer (sizes computed first, no buffer per record).
 */
export function encodeBatch(records: readonly KafkaRecord[], options: EncodeOptions = {}): Buffer {
  if (records.length === 0) throw new Error('a record batch holds at least one record');
  const baseOffset = records[0]!.offset;
  let baseTimestamp = records[0]!.timestamp;
  let maxTimestamp = baseTimestamp;
  let estimate = BATCH_HEADER_SIZE;
  for (const rec of records) {
    if (rec.timestamp < baseTimestamp) baseTimestamp = rec.timestamp;
    if (rec.timestamp > maxTimestamp) maxTimestamp = rec.timestamp;
    estimate += 32 + (rec.value?.length ?? 0) + (rec.key?.length ?? 0) + rec.headers.length * 32;
  }
  const compression = options.compression ?? COMPRESSION_NONE;
  const w = new Writer(compression === COMPRESSION_NONE ? estimate : estimate - BATCH_HEADER_SIZE, false);
  if (compression === COMPRESSION_NONE) w.skip(BATCH_HEADER_SIZE);
  for (const rec of records) encodeRecord(w, rec, baseOffset, baseTimestamp);
  let out: Buffer;
  if (compression === COMPRESSION_NONE) out = w.toBuffer();
  else {
    let payload = w.toBuffer();
    if (compression === COMPRESSION_GZIP) payload = gzipSync(payload);
    else throw new Error(`compression ${compression} not supported`);
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + payload.length);
    payload.copy(out, BATCH_HEADER_SIZE);
  }
  writeInt64(out, baseOffset, 0);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt32BE(-1, 12);
  out.writeInt8(2, 16);
  out.writeInt16BE(compression, 21);
  out.writeInt32BE(records[records.length - 1]!.offset - baseOffset, 23);
  writeInt64(out, baseTimestamp, 27);
  writeInt64(out, maxTimestamp, 35);
  writeInt64(out, options.producerId ?? -1, 43);
  out.writeInt16BE(options.producerEpoch ?? -1, 51);
  out.writeInt32BE(options.baseSequence ?? -1, 53);
  out.writeInt32BE(records.length, 57);
  out.writeUInt32BE(crc32c(out, 21, out.length), 17);
  return out;
}

/** a signed 64-bit integer from a number (exact up to 2^53), without BigInt */
function writeInt64(b: Buffer, v: number, at: number): void {
  const high = Math.floor(v / 2 ** 32);
  b.writeInt32BE(high, at);
  b.writeUInt32BE(v - high * 2 ** 32, at + 4);
}

function encodeRecord(w: Writer, rec: KafkaRecord, baseOffset: number, baseTimestamp: number): void {
  const tsDelta = rec.timestamp - baseTimestamp;
  const offsetDelta = rec.offset - baseOffset;
  let size = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + varBytesSize(rec.key) + varBytesSize(rec.value) + varintSize(rec.headers.length);
  for (const h of rec.headers) {
    const kl = Buffer.byteLength(h.key, 'utf8');
    size += varintSize(kl) + kl + varBytesSize(h.value);
  }
  w.varint(size).int8(0).varlong(tsDelta).varint(offsetDelta);
  writeVarBytes(w, rec.key);
  writeVarBytes(w, rec.value);
  w.varint(rec.headers.length);
  for (const h of rec.headers) {
    w.varint(Buffer.byteLength(h.key, 'utf8')).utf8(h.key);
    writeVarBytes(w, h.value);
  }
}

/** bytes of a zig-zag varint/varlong */
function varintSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 0x80);
    n++;
  }
  return n;
}

function varBytesSize(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function writeVarBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.varint(-1);
  else w.varint(b.length).raw(b);
}
