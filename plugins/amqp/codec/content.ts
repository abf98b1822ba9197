/**
 * Content: the header frame that follows a content-bearing method (AMQP 0-9-1 §4.2.6) and
 * the encoding of the three content methods the broker sends — basic.deliver, basic.get-ok
 * and basic.return — each as method frame + header frame + body frames split by frame-max.
 *
 *   header payload: class-id uint16 | weight uint16 (0) | body-size uint64 | property flags + fields
 *
 * Deliveries are the hottest write path: for a body up to INLINE_BODY_MAX everything goes into
 * one Buffer (one allocation, often from Node's pool); a larger body is not copied: its frames
 * are written as slices of it between small shared separators (frame-end + next frame header),
 * for the socket to gather with writev.
 */
import { CONTENT_HEADER_PROPERTIES_OFFSET, frameError, shortstrLength, writeShortstr, writeU64 } from '../../../src/codec/index.js';
import { CLASS_BASIC, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEADER_SIZE, FRAME_METHOD, FRAME_OVERHEAD } from './constants.js';
import { M } from './method-table.js';

/** Bodies up to this size are copied into the delivery's single buffer; larger ones are sliced. */
export const INLINE_BODY_MAX = 16 * 1024;

const FRAME_END_ONLY = Buffer.from([FRAME_END]);

// ---- reading content headers ---------------------------------------------------------------

/** Validate a content-header payload's fixed part (FRAME_ERROR when too short). */
export function checkContentHeader(payload: Buffer): void {
  if (payload.length < CONTENT_HEADER_PROPERTIES_OFFSET + 2) {
    throw frameError(`content header of ${payload.length} octet(s)`);
  }
}

export function contentHeaderClassId(payload: Buffer): number {
  return payload.readUInt16BE(0);
}

/** The announced body size (exact below 2^53; anything near that is refused as too large anyway). */
export function contentHeaderBodySize(payload: Buffer): number {
  return payload.readUInt32BE(4) * 0x1_0000_0000 + payload.readUInt32BE(8);
}

// ---- writing content methods ---------------------------------------------------------------

/**
 * basic.deliver + content, appended to `out` as one Buffer (small body) or several (large body).
 * `properties` are the encoded property flags + fields. Returns the number of bytes appended.
 */
export function writeDeliver(
  out: Buffer[],
  channel: number,
  frameMax: number,
  consumerTag: string,
  deliveryTag: number,
  redelivered: boolean,
  exchange: string,
  routingKey: string,
  properties: Buffer,
  body: Buffer,
  bodySize = body.length,
): number {
  const methodSize = 4 + 1 + shortstrLength(consumerTag) + 8 + 1 + 1 + shortstrLength(exchange) + 1 + shortstrLength(routingKey);
  const buf = startContent(channel, M.basicDeliver, methodSize, properties.length, body.length, frameMax);
  let o = writeShortstr(buf, FRAME_HEADER_SIZE + 4, consumerTag);
  o = writeU64(buf, o, deliveryTag);
  buf[o++] = redelivered ? 1 : 0;
  o = writeShortstr(buf, o, exchange);
  writeShortstr(buf, o, routingKey);
  return finishContent(out, buf, channel, methodSize, properties, body, frameMax, bodySize);
}

/** basic.get-ok + content. */
export function writeGetOk(
  out: Buffer[],
  channel: number,
  frameMax: number,
  deliveryTag: number,
  redelivered: boolean,
  exchange: string,
  routingKey: string,
  messageCount: number,
  properties: Buffer,
  body: Buffer,
  bodySize = body.length,
): number {
  const methodSize = 4 + 8 + 1 + 1 + shortstrLength(exchange) + 1 + shortstrLength(routingKey) + 4;
  const buf = startContent(channel, M.basicGetOk, methodSize, properties.length, body.length, frameMax);
  let o = writeU64(buf, FRAME_HEADER_SIZE + 4, deliveryTag);
  buf[o++] = redelivered ? 1 : 0;
  o = writeShortstr(buf, o, exchange);
  o = writeShortstr(buf, o, routingKey);
  buf.writeUInt32BE(messageCount, o);
  return finishContent(out, buf, channel, methodSize, properties, body, frameMax, bodySize);
}

/** basic.return + content (an unroutable mandatory message going back to its publisher). */
export function writeReturn(
  out: Buffer[],
  channel: number,
  frameMax: number,
  replyCode: number,
  replyText: string,
  exchange: string,
  routingKey: string,
  properties: Buffer,
  body: Buffer,
  bodySize = body.length,
): number {
  const methodSize = 4 + 2 + 1 + shortstrLength(replyText) + 1 + shortstrLength(exchange) + 1 + shortstrLength(routingKey);
  const buf = startContent(channel, M.basicReturn, methodSize, properties.length, body.length, frameMax);
  buf.writeUInt16BE(replyCode, FRAME_HEADER_SIZE + 4);
  let o = writeShortstr(buf, FRAME_HEADER_SIZE + 6, replyText);
  o = writeShortstr(buf, o, exchange);
  writeShortstr(buf, o, routingKey);
  return finishContent(out, buf, channel, methodSize, properties, body, frameMax, bodySize);
}

/** Largest body payload per frame (frame-max counts the 8 octets of framing). */
export function bodyChunk(frameMax: number): number {
  return frameMax > 0 ? frameMax - FRAME_OVERHEAD : 0x7fff_ffff;
}

/**
 * Allocate the first (often only) buffer of a content method and write the method frame's
 * header and id; the caller writes the method's fields at offset 11.
 */
function startContent(channel: number, methodId: number, methodSize: number, propertiesSize: number, bodySize: number, frameMax: number): Buffer {
  let size = FRAME_OVERHEAD + methodSize + FRAME_OVERHEAD + CONTENT_HEADER_PROPERTIES_OFFSET + propertiesSize;
  if (bodySize > 0) {
    if (bodySize <= INLINE_BODY_MAX) size += bodySize + FRAME_OVERHEAD * Math.ceil(bodySize / bodyChunk(frameMax));
    else size += FRAME_HEADER_SIZE; // header of the first body frame; the body itself is sliced
  }
  const buf = Buffer.allocUnsafe(size);
  buf[0] = FRAME_METHOD;
  buf.writeUInt16BE(channel, 1);
  buf.writeUInt32BE(methodSize, 3);
  buf.writeUInt32BE(methodId, FRAME_HEADER_SIZE);
  return buf;
}

/** `bodySize` is the size the header announces: larger than `body` when the body follows from elsewhere (body-stream.ts). */
function finishContent(out: Buffer[], buf: Buffer, channel: number, methodSize: number, properties: Buffer, body: Buffer, frameMax: number, bodySize: number): number {
  let o = FRAME_HEADER_SIZE + methodSize;
  buf[o++] = FRAME_END;
  // content header frame
  const headerSize = CONTENT_HEADER_PROPERTIES_OFFSET + properties.length;
  o = writeFrameHeader(buf, o, FRAME_HEADER, channel, headerSize);
  buf.writeUInt16BE(CLASS_BASIC, o);
  buf.writeUInt16BE(0, o + 2); // weight: unused, always 0 (§4.2.6.1)
  writeU64(buf, o + 4, bodySize);
  o += CONTENT_HEADER_PROPERTIES_OFFSET;
  o += properties.copy(buf, o);
  buf[o++] = FRAME_END;

  const chunk = bodyChunk(frameMax);
  if (body.length === 0) {
    // AMQP 0-9-1 §4.2.6.2: an empty body is sent as no body frame at all
    out.push(buf);
    return buf.length;
  }
  if (body.length <= INLINE_BODY_MAX) {
    for (let at = 0; at < body.length; at += chunk) {
      const n = Math.min(chunk, body.length - at);
      o = writeFrameHeader(buf, o, FRAME_BODY, channel, n);
      o += body.copy(buf, o, at, at + n);
      buf[o++] = FRAME_END;
    }
    out.push(buf);
    return buf.length;
  }
  // large body: prefix | slice | end+header | slice | … | end
  const first = Math.min(chunk, body.length);
  writeFrameHeader(buf, o, FRAME_BODY, channel, first);
  out.push(buf, body.subarray(0, first));
  const frames = Math.ceil(body.length / chunk);
  const separators = frames > 1 ? Buffer.allocUnsafe((frames - 1) * FRAME_OVERHEAD) : null;
  let s = 0;
  for (let at = first; at < body.length; at += chunk) {
    const n = Math.min(chunk, body.length - at);
    separators![s] = FRAME_END;
    writeFrameHeader(separators!, s + 1, FRAME_BODY, channel, n);
    out.push(separators!.subarray(s, s + FRAME_OVERHEAD), body.subarray(at, at + n));
    s += FRAME_OVERHEAD;
  }
  out.push(FRAME_END_ONLY);
  return buf.length + body.length + s + 1;
}

export function writeFrameHeader(buf: Buffer, o: number, type: number, channel: number, size: number): number {
  buf[o] = type;
  buf.writeUInt16BE(channel, o + 1);
  buf.writeUInt32BE(size, o + 3);
  return o + FRAME_HEADER_SIZE;
}
