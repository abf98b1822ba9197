import { RECORD_HEADER_SIZE, recordCrcOk } from '../format.js';
import { isValidHole } from './hole.js';

/** `checkFrame`: the record continues past the bytes given (read more, or a torn tail). */
export const FRAME_PARTIAL = 'partial';

/**
 * Check the framing of the record at `at` of `buf[0, limit)`, the same for every log: null when
 * it is whole with a valid checksum; FRAME_PARTIAL when it continues past `limit`; else why it
 * is damaged (zero-filled space, an impossible length, a checksum mismatch). Record types are
 * each log's to judge. A HOLE frame (hole.ts) has a checksum over its header only: the gap
 * after it is never checked (it was never written).
 */
export function checkFrame(buf: Buffer, at: number, limit: number, maxRecordSize: number): string | null {
  if (limit - at < RECORD_HEADER_SIZE) return FRAME_PARTIAL;
  const length = buf.readUInt32LE(at + 4);
  if (length === 0 && buf.readUInt32LE(at) === 0) return 'zero-filled space';
  if (length > maxRecordSize) return `impossible record length ${length}`;
  if (isValidHole(buf, at)) return at + RECORD_HEADER_SIZE + length > limit ? FRAME_PARTIAL : null;
  if (at + RECORD_HEADER_SIZE + length > limit) return FRAME_PARTIAL;
  if (!recordCrcOk(buf, at, length)) return 'checksum mismatch';
  return null;
}
