/**
 * AMQP 0-9-1 basic-class content properties (spec §4.2.6.1 and the basic class's property
 * list): the property-flags word(s) followed by the fields whose flag is set, in order.
 *
 *   flags  uint16, bit 15 = content-type … bit 2 = cluster-id; bit 0 = another flags word follows
 *   fields in flag order: shortstr, shortstr, table, octet, octet, shortstr ×4, timestamp (uint64),
 *          shortstr ×4
 *
 * These bytes are the canonical encoded form of a message's properties: the AMQP front-end
 * keeps them as received (`Message.encodedProperties`), the store writes them, and AMQP
 * deliveries send them back unchanged.
 */
import type { MessageProperties } from './types.js';
import { WireReader, frameError } from './field-table.js';
import { fieldTableSize, shortstrLength, writeFieldTable, writeShortstr, writeU64 } from './field-table-writer.js';

type Kind = 'shortstr' | 'table' | 'octet' | 'timestamp';

/** The 14 basic properties in flag order: index i has flag bit 15 - i. */
const PROPERTIES: ReadonlyArray<readonly [keyof MessageProperties, Kind]> = [
  ['contentType', 'shortstr'],
  ['contentEncoding', 'shortstr'],
  ['headers', 'table'],
  ['deliveryMode', 'octet'],
  ['priority', 'octet'],
  ['correlationId', 'shortstr'],
  ['replyTo', 'shortstr'],
  ['expiration', 'shortstr'],
  ['messageId', 'shortstr'],
  ['timestamp', 'timestamp'],
  ['type', 'shortstr'],
  ['userId', 'shortstr'],
  ['appId', 'shortstr'],
  ['clusterId', 'shortstr'],
];

/** Offset of the property flags in a content-header payload: class-id, weight, body-size. */
export const CONTENT_HEADER_PROPERTIES_OFFSET = 12;

/**
 * The encoded properties (flags + fields) inside a content-header frame payload, as a view
 * (no copy): what `Message.encodedProperties` holds once copied off the socket chunk.
 */
export function propertiesView(headerPayload: Buffer): Buffer {
  return headerPayload.subarray(CONTENT_HEADER_PROPERTIES_OFFSET);
}

/** Decode flags + fields in `buf[start, end)`; FRAME_ERROR when malformed. */
export function decodeProperties(buf: Buffer, start = 0, end = buf.length): MessageProperties {
  const r = new WireReader(buf, start, end);
  const flags = r.u16();
  // AMQP 0-9-1 §4.2.6.1: bit 0 set means another flags word follows. The basic class has 14
  // properties, so further words can only carry unknown properties: refuse them.
  if (flags & 1) throw frameError('content header: unexpected property flags continuation');
  if (flags & 2) throw frameError('content header: property flag bit 1 is not a basic property');
  const p: MessageProperties = {};
  for (let i = 0; i < PROPERTIES.length; i++) {
    if ((flags & (0x8000 >>> i)) === 0) continue;
    const [name, kind] = PROPERTIES[i];
    switch (kind) {
      case 'shortstr':
        (p as Record<string, unknown>)[name] = r.shortstr();
        break;
      case 'table':
        p.headers = r.table();
        break;
      case 'octet':
        (p as Record<string, unknown>)[name] = r.u8();
        break;
      case 'timestamp':
        p.timestamp = r.u64();
        break;
    }
  }
  if (r.pos !== end) throw frameError(`content header: ${end - r.pos} octet(s) after the last property`);
  return p;
}

/** Encoded size of `p` (flags + fields). */
export function propertiesSize(p: MessageProperties): number {
  let size = 2;
  for (let i = 0; i < PROPERTIES.length; i++) {
    const [name, kind] = PROPERTIES[i];
    const v = p[name];
    if (v === undefined) continue;
    switch (kind) {
      case 'shortstr':
        size += 1 + shortstrLength(v as string);
        break;
      case 'table':
        size += fieldTableSize(p.headers!);
        break;
      case 'octet':
        size += 1;
        break;
      case 'timestamp':
        size += 8;
        break;
    }
  }
  return size;
}

/** Write flags + fields of `p` at `offset`; returns the offset after them. */
export function writeProperties(buf: Buffer, offset: number, p: MessageProperties): number {
  const flagsAt = offset;
  let flags = 0;
  offset += 2;
  for (let i = 0; i < PROPERTIES.length; i++) {
    const [name, kind] = PROPERTIES[i];
    const v = p[name];
    if (v === undefined) continue;
    flags |= 0x8000 >>> i;
    switch (kind) {
      case 'shortstr':
        offset = writeShortstr(buf, offset, v as string);
        break;
      case 'table':
        offset = writeFieldTable(buf, offset, p.headers!);
        break;
      case 'octet':
        buf[offset++] = checkOctet(name, v as number);
        break;
      case 'timestamp': {
        const t = v as number;
        if (!Number.isInteger(t) || t < 0) throw new TypeError(`timestamp must be a non-negative integer, got ${t}`);
        offset = writeU64(buf, offset, t);
        break;
      }
    }
  }
  buf.writeUInt16BE(flags, flagsAt);
  return offset;
}

/** `p` encoded on its own (for messages that did not arrive over AMQP). */
export function encodeProperties(p: MessageProperties): Buffer {
  const buf = Buffer.allocUnsafe(propertiesSize(p));
  writeProperties(buf, 0, p);
  return buf;
}

function checkOctet(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`${name} must be an octet (0..255), got ${v}`);
  return v;
}
