import { RECORD_HEADER_SIZE } from '../format.js';
import { FRAME_PARTIAL, checkFrame } from './frame-check.js';

/** One record found by a scan; the scan reuses a single instance. */
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
  /** end of the last good record: where the valid prefix ends, and a torn tail is cut */
  validEnd: number;
  records: number;
  /** set when the scan stopped before the end of the buffer */
  stop: DamagedRange | null;
  /** ranges skipped in salvage mode (records after them were used) */
  skipped: DamagedRange[];
}

export interface RecordScanOptions {
  maxRecordSize: number;
  /**
   * Whether a record type below 0x80 is one of this log's. Types from 0x80 on are optional
   * (readers skip the ones they do not know: RocksDB's rule), so they always pass the framing
   * check and reach the visitor; an unknown type below 0x80 is damage.
   */
  knownType: (type: number) => boolean;
  /**
   * After damage, look for the next record whose length and checksum are valid and carry on
   * from there (RocksDB's kSkipAnyCorruptedRecords): bit rot in one record of a sealed
   * segment must not lose the rest of the file. Without it the scan stops at the first bad
   * record: a torn tail, after which nothing was ever confirmed (point-in-time).
   */
  salvage: boolean;
}

/**
 * Called for each well-framed record with a valid checksum, in file order; `rec` is valid
 * during the call only. @returns null when the record is used, else why it cannot be (a
 * payload that does not decode in this log's layout counts as damage, like a bad checksum).
 */
export type RecordVisitor = (buf: Buffer, rec: ScannedRecord) => string | null;

/**
 * Walk the framed records of a segment held in `buf` from `start` (after the segment
 * header), verifying every checksum, for any log: what a record means is the visitor's.
 */
export function scanRecords(buf: Buffer, start: number, options: RecordScanOptions, visit: RecordVisitor): ScanResult {
  const rec = new ScannedRecord();
  const result: ScanResult = { validEnd: Math.min(start, buf.length), records: 0, stop: null, skipped: [] };
  const len = buf.length;
  let p = start;
  while (p < len) {
    let problem = checkRecordAt(buf, p, options.maxRecordSize, options.knownType);
    if (problem === null) {
      rec.offset = p;
      rec.type = buf[p + 8];
      rec.flags = buf[p + 9];
      rec.payloadAt = p + RECORD_HEADER_SIZE;
      rec.payloadLength = buf.readUInt32LE(p + 4);
      problem = visit(buf, rec);
      if (problem === null) {
        result.records++;
        p = rec.end;
        result.validEnd = p;
        continue;
      }
    }
    if (!options.salvage) {
      result.stop = { offset: p, length: len - p, reason: problem };
      return result;
    }
    const next = findNextRecord(buf, p + 1, options);
    result.skipped.push({ offset: p, length: next - p, reason: problem });
    p = next;
  }
  return result;
}

/** @returns null when a well-framed record of a known or optional type with a valid checksum starts at `p`, else why not */
export function checkRecordAt(buf: Buffer, p: number, maxRecordSize: number, knownType: (type: number) => boolean): string | null {
  const len = buf.length;
  const problem = checkFrame(buf, p, len, maxRecordSize);
  if (problem === FRAME_PARTIAL) {
    if (len - p < RECORD_HEADER_SIZE) return `torn record header (${len - p} of ${RECORD_HEADER_SIZE} bytes)`;
    return `torn record (${len - p - RECORD_HEADER_SIZE} of ${buf.readUInt32LE(p + 4)} payload bytes)`;
  }
  if (problem !== null) return problem;
  const type = buf[p + 8];
  if (type < 0x80 && !knownType(type)) return `unknown record type 0x${type.toString(16)}`;
  return null;
}

/** Salvage: the next offset at or after `from` where a valid record starts, or the end. */
function findNextRecord(buf: Buffer, from: number, options: RecordScanOptions): number {
  for (let p = from; p + RECORD_HEADER_SIZE <= buf.length; p++) {
    const length = buf.readUInt32LE(p + 4);
    if (length === 0 || length > options.maxRecordSize || p + RECORD_HEADER_SIZE + length > buf.length) continue;
    if (checkRecordAt(buf, p, options.maxRecordSize, options.knownType) === null) return p;
  }
  return buf.length;
}
