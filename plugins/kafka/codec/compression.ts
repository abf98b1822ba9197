/**
 * The compressed records of a produced batch (attributes bits 0-2: 1 gzip, 2 snappy, 3 lz4,
 * 4 zstd), inflated within what is left of the request's budget, which they take. Only
 * decompression is needed: fetch answers uncompressed batches, which every client reads.
 *
 * - gzip: node:zlib, `maxOutputLength` bounds it.
 * - snappy (`snappy`, napi-rs with prebuilt binaries in npm packages): raw snappy (librdkafka)
 *   or Kafka Java's xerial framing (magic `\x82SNAPPY\0`, two int32 versions, then blocks of
 *   int32 length + raw snappy); a raw block's varint preamble states its inflated size, checked
 *   before inflating.
 * - lz4 (`lz4-napi`, napi-rs): one LZ4 frame (lz4 frame format spec); its block headers bound
 *   what it inflates to (blocks × the frame's maximum block size), checked before inflating.
 * - zstd (`fzstd`, pure JS, decompression only): inflated block by block (at most 128 KiB
 *   each), stopped as soon as the budget is passed.
 * Throws BatchError: MESSAGE_TOO_LARGE (10) past the budget, CORRUPT_MESSAGE (2) for data that
 * does not inflate, UNSUPPORTED_COMPRESSION_TYPE (76) for another codec number.
 */
import { gunzipSync } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import { decompressFrameSync } from 'lz4-napi';
import { uncompressSync } from 'snappy';
import { BatchError, type InflateBudget } from './batch-error.js';

export const COMPRESSION_NONE = 0;
export const COMPRESSION_GZIP = 1;
export const COMPRESSION_SNAPPY = 2;
export const COMPRESSION_LZ4 = 3;
export const COMPRESSION_ZSTD = 4;

const MESSAGE_TOO_LARGE = 10;
const CORRUPT_MESSAGE = 2;
const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function decompress(codec: number, data: Buffer, budget: InflateBudget): Buffer {
  // a spent budget is refused before inflating (gzip's maxOutputLength must be at least 1)
  if (budget.left < 1) throw tooLarge(codec);
  let out: Buffer;
  switch (codec) {
    case COMPRESSION_GZIP:
      out = gunzip(data, budget.left);
      break;
    case COMPRESSION_SNAPPY:
      out = unsnappy(data, budget.left);
      break;
    case COMPRESSION_LZ4:
      out = unlz4(data, budget.left);
      break;
    case COMPRESSION_ZSTD:
      out = unzstd(data, budget.left);
      break;
    default:
      throw new BatchError(76, `compression type ${codec} is not supported (none, gzip, snappy, lz4 and zstd are)`);
  }
  budget.left -= out.length;
  return out;
}

function tooLarge(codec: number): BatchError {
  return new BatchError(MESSAGE_TOO_LARGE, `${NAMES[codec] ?? codec} batches inflate past the size limit`);
}

function corrupt(codec: number): BatchError {
  return new BatchError(CORRUPT_MESSAGE, `${NAMES[codec]} batch does not inflate`);
}

function gunzip(data: Buffer, limit: number): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: limit });
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(COMPRESSION_GZIP) : corrupt(COMPRESSION_GZIP);
  }
}

// ---- snappy ------------------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

function unsnappy(data: Buffer, limit: number): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyBlock(data, limit);
  const blocks: Buffer[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER; at < data.length; ) {
    if (at + 4 > data.length) throw corrupt(COMPRESSION_SNAPPY);
    const n = data.readInt32BE(at);
    if (n < 0 || at + 4 + n > data.length) throw corrupt(COMPRESSION_SNAPPY);
    const block = snappyBlock(data.subarray(at + 4, at + 4 + n), limit - total);
    blocks.push(block);
    total += block.length;
    at += 4 + n;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}

/** A raw snappy block, refused before inflating when its stated length passes `limit`. */
function snappyBlock(block: Buffer, limit: number): Buffer {
  let length = 0;
  for (let i = 0, scale = 1; ; i++, scale *= 128) {
    if (i >= 5 || i >= block.length) throw corrupt(COMPRESSION_SNAPPY);
    length += (block[i]! & 0x7f) * scale;
    if ((block[i]! & 0x80) === 0) break;
  }
  if (length > limit) throw tooLarge(COMPRESSION_SNAPPY);
  try {
    return uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch {
    throw corrupt(COMPRESSION_SNAPPY);
  }
}

// ---- lz4 ---------------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
/** BD byte bits 4-6 → the frame's maximum block size */
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

function unlz4(data: Buffer, limit: number): Buffer {
  // walk the frame's headers: what it can inflate to, before inflating anything
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC) throw corrupt(COMPRESSION_LZ4);
  const flg = data[4]!;
  const blockMax = LZ4_BLOCK_MAX[(data[5]! >> 4) & 0x07];
  if (flg >> 6 !== 1 || blockMax === undefined) throw corrupt(COMPRESSION_LZ4);
  const blockChecksums = (flg & 0x10) !== 0;
  let at = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
  let bound = 0;
  for (;;) {
    if (at + 4 > data.length) throw corrupt(COMPRESSION_LZ4);
    const word = data.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    at += size + (blockChecksums ? 4 : 0);
    // a stored (uncompressed) block is its size; a compressed one at most the maximum block size
    bound += (word & 0x80000000) !== 0 ? size : blockMax;
  }
  at += (flg & 0x04) !== 0 ? 4 : 0;
  if (at !== data.length) throw corrupt(COMPRESSION_LZ4);
  if (bound > limit) throw tooLarge(COMPRESSION_LZ4);
  try {
    return decompressFrameSync(data);
  } catch {
    throw corrupt(COMPRESSION_LZ4);
  }
}

// ---- zstd --------------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
/** a compressed zstd block inflates to at most this (and at most the frame's window) */
const ZSTD_BLOCK_MAX = 128 << 10;

function unzstd(data: Buffer, limit: number): Buffer {
  // walk the frames' headers (RFC 8878 §3.1): their windows and what their blocks can inflate
  // to, before inflating (the decoder allocates a frame's window as the header states it)
  if (zstdBound(data, limit) > limit) throw tooLarge(COMPRESSION_ZSTD);
  const chunks: Uint8Array[] = [];
  let total = 0;
  // each block comes as a buffer of its own
  const stream = new ZstdStream((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  try {
    stream.push(data, true);
  } catch {
    throw corrupt(COMPRESSION_ZSTD);
  }
  if (total > limit) throw tooLarge(COMPRESSION_ZSTD);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The most `data`'s zstd frames inflate to; throws for a malformed frame or a window past `limit`. */
function zstdBound(data: Buffer, limit: number): number {
  let at = 0;
  let bound = 0;
  while (at < data.length) {
    if (at + 8 > data.length) throw corrupt(COMPRESSION_ZSTD);
    const magic = data.readUInt32LE(at);
    if (((magic & 0xfffffff0) >>> 0) === 0x184d2a50) {
      // a skippable frame
      at += 8 + data.readUInt32LE(at + 4);
      continue;
    }
    const flags = data[at + 4]!;
    // reserved bit set, or a dictionary (Kafka's producers use none)
    if (magic !== ZSTD_MAGIC || (flags & 0x08) !== 0 || (flags & 0x03) !== 0) throw corrupt(COMPRESSION_ZSTD);
    const singleSegment = (flags & 0x20) !== 0;
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][flags >> 6]!;
    let p = at + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = data[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    if (p + sizeBytes > data.length) throw corrupt(COMPRESSION_ZSTD);
    if (singleSegment) {
      let size = 0;
      for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + data[p + i]!;
      window = sizeBytes === 2 ? size + 256 : size;
    }
    p += sizeBytes;
    if (window > limit) throw tooLarge(COMPRESSION_ZSTD);
    const blockMax = Math.min(window, ZSTD_BLOCK_MAX);
    for (;;) {
      if (p + 3 > data.length) throw corrupt(COMPRESSION_ZSTD);
      const header = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt(COMPRESSION_ZSTD);
      p += 3 + (type === 1 ? 1 : size);
      // raw: its size; RLE: its size (one byte stored); compressed: at most the block maximum
      bound += type === 2 ? blockMax : size;
      if ((header & 1) !== 0) break;
    }
    at = p + ((flags & 0x04) !== 0 ? 4 : 0);
  }
  if (at !== data.length) throw corrupt(COMPRESSION_ZSTD);
  return bound;
}
