/**
 * Where a connection's packets begin and end in its byte stream, read from their fixed headers
 * (MQTT 3.1.1 §2.2, MQTT 5.0 §2.1.1: a byte of packet type and flags, then the remaining length
 * as a variable byte integer of one to four bytes, §1.5.5). mqtt-packet parses the packets; this
 * file only frames them, through mqtt-packet's public API, so that the connection can
 *  - refuse a packet larger than its maximum from the fixed header, before anything buffers it;
 *  - take a PUBLISH above `large_message_threshold` out of the stream right after its fixed
 *    header, so that its payload goes to the journal instead of a parser's buffer
 *    (inbound-body.ts).
 * Only the packet a read ends in costs anything beyond the header walk: the parser holding
 * its first bytes and how many are still to come (or the few bytes of a fixed header the read
 * cut, kept here until the next read completes it).
 */
import type { Parser, ProtocolVersion } from './codec.js';
import { parseRead, type PacketSink } from './parsers.js';

/** A fixed header: first byte (type and flags), remaining length, and its own size in bytes. */
export interface FixedHeader {
  first: number;
  remaining: number;
  size: number;
}

/**
 * The fixed header at `b[at]`, into `out`. @returns 1 when read, 0 when `b` ends inside it,
 * -1 when its remaining length does not end within four bytes (malformed, §1.5.5).
 */
export function readFixedHeader(b: Buffer, at: number, out: FixedHeader): 1 | 0 | -1 {
  let remaining = 0;
  for (let i = 0; i < 4; i++) {
    if (at + 1 + i >= b.length) return 0;
    const byte = b[at + 1 + i]!;
    remaining += (byte & 0x7f) * 128 ** i;
    if ((byte & 0x80) === 0) {
      out.first = b[at]!;
      out.remaining = remaining;
      out.size = 2 + i;
      return 1;
    }
  }
  return -1;
}

/** A packet split across reads: the parser holding its first bytes and how many are to come, or the start of a fixed header the read cut. */
export class SplitPacket {
  constructor(
    readonly parser: Parser | null,
    public left: number,
    readonly head: Buffer | null,
  ) {}
}

/** What framing needs of its connection. */
export interface FramedConnection extends PacketSink {
  readonly version: ProtocolVersion;
  readonly closed: boolean;
  readonly maxPacketSize: number;
  /** a packet announced a size above `maxPacketSize` */
  packetTooLarge(size: number): void;
  /**
   * A packet the read ends in, after its fixed header: take it when it is a PUBLISH to stream
   * (`rest`: its bytes in this read). @returns whether it was taken
   */
  streamPublish(first: number, remaining: number, rest: Buffer): boolean;
}

const header: FixedHeader = { first: 0, remaining: 0, size: 0 };

/** Frame and parse one read of `c`. @returns the packet the read ends in, or null when it ends on a boundary */
export function frameRead(c: FramedConnection, split: SplitPacket | null, chunk: Buffer): SplitPacket | null {
  let from = 0;
  if (split !== null) {
    if (split.head !== null) {
      chunk = Buffer.concat([split.head, chunk]); // a cut fixed header: rare, and at most four bytes before the read
    } else if (chunk.length < split.left) {
      split.left -= chunk.length;
      const held = parseRead(c, split.parser, c.version, chunk);
      return held === null ? null : split;
    } else {
      // the rest of the held packet: its parser completes it and is free again
      parseRead(c, split.parser, c.version, chunk.subarray(0, split.left));
      from = split.left;
      if (c.closed || from === chunk.length) return null;
    }
  }
  // `from` is a packet boundary: walk the read's whole packets to the one it ends in
  let at = from;
  for (;;) {
    if (at === chunk.length) {
      parseWhole(c, chunk, from, at);
      return null;
    }
    const r = readFixedHeader(chunk, at, header);
    if (r < 0) {
      // mqtt-packet reports the malformed length (the connection then closes)
      const held = parseRead(c, null, c.version, chunk.subarray(from));
      return held === null ? null : new SplitPacket(held, Number.MAX_SAFE_INTEGER, null);
    }
    if (r === 0) {
      parseWhole(c, chunk, from, at);
      return c.closed ? null : new SplitPacket(null, 0, Buffer.from(chunk.subarray(at)));
    }
    if (at + header.size + header.remaining > chunk.length) break;
    at += header.size + header.remaining;
  }
  // the read ends inside the packet at `at` (copied out: parsing the packets before it may frame another connection's read)
  const { first, remaining, size } = header;
  parseWhole(c, chunk, from, at);
  if (c.closed) return null;
  if (size + remaining > c.maxPacketSize) {
    c.packetTooLarge(size + remaining);
    return null;
  }
  if (c.streamPublish(first, remaining, chunk.subarray(at + size))) return null;
  const held = parseRead(c, null, c.version, chunk.subarray(at));
  return held === null ? null : new SplitPacket(held, at + size + remaining - chunk.length, null);
}

/** Parse the whole packets of `chunk[from, to)` (none split, so no parser is kept). */
function parseWhole(c: FramedConnection, chunk: Buffer, from: number, to: number): void {
  if (to > from) parseRead(c, null, c.version, chunk.subarray(from, to));
}
