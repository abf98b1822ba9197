/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batches
 * (KIP-98 "Message Format": the CRC covers attributes through the end of the batch). Node's
 * zlib.crc32 is CRC-32/IEEE, a different polynomial, so it comes from @node-rs/crc32 (SSE4.2 /
 * ARMv8 CRC instructions, prebuilt binaries shipped as npm packages): every produced batch is
 * checked and every fetched one summed, and a table-driven JavaScript version ran 7-10 times
 * slower (121 against 870-1,400 MB/s on this machine, loaded). Checked against RFC 3720
 * appendix B.4 vectors in the tests.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  return nativeCrc32c(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}
