/**
 * Message body layout used by every scenario (little-endian):
 *
 *   offset 0   float64  publishedAtMs   clock.nowMs() when `publish` was called
 *   offset 8   float64  sequence        1, 2, 3 … per publisher (exact up to 2^53)
 *   offset 16  uint32   keyIndex        which routing key was used (topic checks routing)
 *   offset 20  …        filler bytes up to --size
 *
 * The timestamp travels in the body rather than in a header so both brokers
 * carry exactly the same bytes and no property encoding is measured.
 */

export const PAYLOAD_HEADER_BYTES = 20;

/**
 * @param {number} size total body size in bytes
 * @returns {Buffer} a template filled with printable filler
 */
export function makeTemplate(size) {
  if (size < PAYLOAD_HEADER_BYTES) {
    throw new RangeError(`--size must be at least ${PAYLOAD_HEADER_BYTES} bytes (timestamp, sequence, key index)`);
  }
  return Buffer.alloc(size, 0x2e);
}

/**
 * A fresh body per message: amqplib keeps references to large bodies until
 * they are written, so reusing one buffer would be unsafe above its copy
 * threshold.
 * @param {Buffer} template
 * @param {number} publishedAtMs
 * @param {number} sequence
 * @param {number} keyIndex
 */
export function makeBody(template, publishedAtMs, sequence, keyIndex) {
  const body = Buffer.allocUnsafe(template.length);
  template.copy(body, PAYLOAD_HEADER_BYTES, PAYLOAD_HEADER_BYTES);
  body.writeDoubleLE(publishedAtMs, 0);
  body.writeDoubleLE(sequence, 8);
  body.writeUInt32LE(keyIndex, 16);
  return body;
}

/** @param {Buffer} body */
export function readPublishedAt(body) {
  return body.readDoubleLE(0);
}

/** @param {Buffer} body */
export function readSequence(body) {
  return body.readDoubleLE(8);
}

/** @param {Buffer} body */
export function readKeyIndex(body) {
  return body.readUInt32LE(16);
}
