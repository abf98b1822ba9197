import { RECORD_HEADER_SIZE, crc32, maskCrc } from '../format.js';

/**
 * A HOLE frame: a record that was placed in the log (its bytes counted, its LSN given) but
 * never written, because nobody will ever read it — a journal MSG record whose every queue
 * copy was acknowledged by a consumer before its group-commit round was written (the
 * journal's elision, pending-batch.ts). Only its 12-byte header is written; the `length`
 * bytes after it are a gap in the file (a sparse region, zeros when read).
 *
 *    0               4               8      9      10             12
 *   +---------------+---------------+------+------+--------------+- - - - - - - - - - -+
 *   | masked CRC u32| length u32    | 0xfe | 0    | 0 u16        |  never written       |
 *   +---------------+---------------+------+------+--------------+- - - - - - - - - - -+
 *   The CRC covers bytes 4–11 only (the gap holds nothing to check).
 *
 * The type is optional (≥ 0x80), so a visitor that knows nothing of it skips it.
 */
export const HOLE_TYPE = 0xfe;

/** The header of a HOLE frame standing for a record of `total` bytes (header included). */
export function encodeHoleHeader(total: number): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE);
  b.writeUInt32LE(total - RECORD_HEADER_SIZE, 4);
  b[8] = HOLE_TYPE;
  b[9] = 0;
  b.writeUInt16LE(0, 10);
  b.writeUInt32LE(maskCrc(crc32(b.subarray(4, RECORD_HEADER_SIZE))), 0);
  return b;
}

/** Whether the frame at `at` is a HOLE whose header checksum holds. */
export function isValidHole(buf: Buffer, at: number): boolean {
  return buf[at + 8] === HOLE_TYPE && maskCrc(crc32(buf.subarray(at + 4, at + RECORD_HEADER_SIZE))) === buf.readUInt32LE(at);
}
