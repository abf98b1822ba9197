import {
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  isKnownType,
  isOptionalType,
} from './format.js';
import { FRAME_PARTIAL, checkFrame } from './log/frame-check.js';

/** One record found by a scan; the scanner reuses a single instance. */
export class ScannedRecord {
  /** offset of the record header in the segment */
  offset = 0;
  type = 0;
  flags = 0;
  payloadAt = 0;
  payloadLength = 0;
  get totalLength(): number {
    return RECORD_HEADER_SIZE + this.payloadLength;
  }
  get end(): number {
    return this.payloadAt + this.payloadLength;
  }
}

/** A byte range of a segment that could not be used. */
export interface DamagedRange {
  offset: number;
  length: number;
  reason: string;
}

export interface ScanResult {
  /** end of the last good record (where a torn tail would be cut) */
  validEnd: number;
  records: number;
  /** set when the scan stopped before the end of the buffer */
  stop: DamagedRange | null;
  /** ranges skipped in salvage mode (records after them were used) */
  skipped: DamagedRange[];
}

export interface ScanOptions {
  maxRecordSize: number;
  /**
   * After damage, look for the next record whose length and checksum are valid and carry on
   * from there (RocksDB's kSkipAnyCorruptedRecords). Used for sealed segments: bit rot in one
   * record must not lose the rest of the file. The active (last) segment is never salvaged:
   * its damage is a torn tail and everything after it was never confirmed (point-in-time).
   */
  salvage: boolean;
}

/**
 * Walk the records of a segment held in `buf` (the whole file), verifying each checksum.
 * `visit` returns false when a record is well framed but its payload does not decode:
 * that counts as damage too.
 */
export function scanSegment(
  buf: Buffer,
  options: ScanOptions,
  visit: (buf: Buffer, rec: ScannedRecord) => boolean,
): ScanResult {
  const rec = new ScannedRecord();
  const result: ScanResult = { validEnd: Math.min(SEGMENT_HEADER_SIZE, buf.length), records: 0, stop: null, skipped: [] };
  const len = buf.length;
  let p = SEGMENT_HEADER_SIZE;
  while (p < len) {
    const problem = checkRecordAt(buf, p, options.maxRecordSize);
    if (problem === null) {
      rec.offset = p;
      rec.type = buf[p + 8];
      rec.flags = buf[p + 9];
      rec.payloadAt = p + RECORD_HEADER_SIZE;
      rec.payloadLength = buf.readUInt32LE(p + 4);
      if (visit(buf, rec)) {
        result.records++;
        p = rec.end;
        result.validEnd = p;
        continue;
      }
    }
    const reason = problem ?? `record type 0x${buf[p + 8].toString(16)} does not decode`;
    if (!options.salvage) {
      result.stop = { offset: p, length: len - p, reason };
      return result;
    }
    const next = findNextRecord(buf, p + 1, options.maxRecordSize);
    result.skipped.push({ offset: p, length: next - p, reason });
    p = next;
  }
  return result;
}

/** @returns null when a well-framed record with a valid checksum starts at `p`, else why not */
export function checkRecordAt(buf: Buffer, p: number, maxRecordSize: number): string | null {
  const len = buf.length;
  const problem = checkFrame(buf, p, len, maxRecordSize);
  if (problem === FRAME_PARTIAL) {
    if (len - p < RECORD_HEADER_SIZE) return `torn record header (${len - p} of ${RECORD_HEADER_SIZE} bytes)`;
    return `torn record (${len - p - RECORD_HEADER_SIZE} of ${buf.readUInt32LE(p + 4)} payload bytes)`;
  }
  if (problem !== null) return problem;
  const type = buf[p + 8];
  if (!isKnownType(type) && !isOptionalType(type)) return `unknown record type 0x${type.toString(16)}`;
  return null;
}

/** Salvage: the next offset at or after `from` where a valid record starts, or the end. */
function findNextRecord(buf: Buffer, from: number, maxRecordSize: number): number {
  for (let p = from; p + RECORD_HEADER_SIZE <= buf.length; p++) {
    const length = buf.readUInt32LE(p + 4);
    if (length === 0 || length > maxRecordSize || p + RECORD_HEADER_SIZE + length > buf.length) continue;
    if (checkRecordAt(buf, p, maxRecordSize) === null) return p;
  }
  return buf.length;
}
