import { SEGMENT_HEADER_SIZE, isKnownType } from './format.js';
import { type ScanResult, type ScannedRecord, checkRecordAt as checkFramedRecordAt, scanRecords } from './log/record-scan.js';

export { ScannedRecord, type DamagedRange, type ScanResult } from './log/record-scan.js';

export interface ScanOptions {
  maxRecordSize: number;
  /**
   * Skip damage and carry on (sealed segments: bit rot), or stop at it (the active segment:
   * a torn tail). See `RecordScanOptions.salvage` (log/record-scan.ts).
   */
  salvage: boolean;
}

/**
 * Walk the records of a journal segment held in `buf` (the whole file) with the log engine's
 * scan: journal record types. `visit` returns false when a record is well framed but its
 * payload does not decode: that counts as damage too.
 */
export function scanSegment(buf: Buffer, options: ScanOptions, visit: (buf: Buffer, rec: ScannedRecord) => boolean): ScanResult {
  return scanRecords(buf, SEGMENT_HEADER_SIZE, { ...options, knownType: isKnownType }, (b, rec) =>
    visit(b, rec) ? null : `record type 0x${rec.type.toString(16)} does not decode`,
  );
}

/** @returns null when a well-framed journal record with a valid checksum starts at `p`, else why not */
export function checkRecordAt(buf: Buffer, p: number, maxRecordSize: number): string | null {
  return checkFramedRecordAt(buf, p, maxRecordSize, isKnownType);
}
