/**
 * An inbound PUBLISH whose payload is above `large_message_threshold` is not buffered whole
 * by the packet parser: the connection's framing (read-framing.ts) finds its fixed header and
 * hands the bytes after it here, before any parser saw them, and the rest of the packet is
 * read here too. The variable header (topic, packet id, MQTT 5 properties) is gathered and
 * handed to a parser of its own as a PUBLISH with an empty payload; the payload goes to the
 * vhost's journal as it arrives (src/store/large-body.ts), the socket paused while the journal
 * is behind (src/frontend/journal-backpressure.ts); the packet then reaches the PUBLISH
 * handler with the payload as `bodyRef`. A retained PUBLISH, or one on a vhost without a
 * journal, is parsed as before.
 */
import type { IPublishPacket } from 'mqtt-packet';
import type { LargeBody, LargeBodyWriter, ProtocolCore } from '../../src/core/index.js';
import { keepUpWithJournal } from '../../src/frontend/index.js';
import { createParser, type Packet, type ProtocolVersion } from './codec.js';

/** A variable header (topic, properties) larger than this is not a publish worth streaming. */
const MAX_VARIABLE_HEADER = 1024 * 1024;

/** A PUBLISH whose payload is in the journal. */
export type StreamedPublish = IPublishPacket & { bodyRef?: LargeBody };

/** What the stream needs of its connection. */
export interface InboundConnection {
  readonly version: ProtocolVersion;
  readonly vhost: string;
  readonly holding: boolean;
  setReading(reading: boolean): void;
  /** the finished packet, as if the parser had made it */
  parsedPacket(packet: Packet): void;
  parseError(error: Error): void;
}

/**
 * Start streaming a PUBLISH from its fixed header (`first`: type and flags, `remaining`: the
 * remaining length) when it is one to stream; null to leave it to the parser. The caller then
 * feeds `push` the bytes after the fixed header.
 */
export function takeOverPublish(c: InboundConnection, core: ProtocolCore, first: number, remaining: number): InboundPublish | null {
  const qos = (first >> 1) & 3;
  // a PUBLISH (type 3), not retained, with a valid QoS; anything else the parser reads (and refuses)
  if (first >> 4 !== 3 || (first & 1) !== 0 || qos === 3 || remaining <= core.largeMessageThreshold) return null;
  // the payload is at most the remaining length; its exact size is known once the variable header is read
  const writer = core.beginLargeBody(c.vhost, remaining);
  return writer === null ? null : new InboundPublish(c, core, writer, first, qos, remaining);
}

export class InboundPublish {
  readonly #c: InboundConnection;
  readonly #core: ProtocolCore;
  readonly #writer: LargeBodyWriter;
  readonly #first: number;
  readonly #qos: number;
  /** bytes of the packet after its fixed header still to come */
  #left: number;
  #head: Buffer[] = [];
  #headLength = 0;
  #packet: StreamedPublish | null = null;

  constructor(c: InboundConnection, core: ProtocolCore, writer: LargeBodyWriter, first: number, qos: number, remaining: number) {
    this.#c = c;
    this.#core = core;
    this.#writer = writer;
    this.#first = first;
    this.#qos = qos;
    this.#left = remaining;
  }

  /** The next bytes of the connection. @returns what follows the packet (null: all taken) */
  push(chunk: Buffer): Buffer | null {
    let at = 0;
    if (this.#packet === null) {
      const take = Math.min(chunk.length, this.#left);
      this.#head.push(chunk.subarray(0, take));
      this.#headLength += take;
      at = take;
      const size = variableHeaderSize(Buffer.concat(this.#head, this.#headLength), this.#qos, this.#c.version === 5);
      if (size < 0) {
        this.#left -= take;
        if (this.#headLength > MAX_VARIABLE_HEADER) this.#fail(new Error('variable header too large'));
        return null;
      }
      // the variable header is complete: the bytes after it are payload
      const head = Buffer.concat(this.#head, this.#headLength);
      this.#head = [];
      at = take - (this.#headLength - size);
      this.#left -= at;
      if (!this.#parseHeader(head.subarray(0, size))) return null;
    }
    const n = Math.min(this.#left, chunk.length - at);
    if (n > 0) this.#writer.append(chunk.subarray(at, at + n)); // copied into the part being filled
    this.#left -= n;
    at += n;
    if (this.#left > 0) {
      keepUpWithJournal(this.#c, this.#writer, this.#core.alarms);
      return null;
    }
    const packet = this.#packet!;
    packet.bodyRef = this.#writer.finish();
    this.#c.parsedPacket(packet);
    return at < chunk.length ? chunk.subarray(at) : EMPTY;
  }

  /** The connection is gone mid-packet: the parts written are garbage. */
  abort(): void {
    this.#writer.abort();
  }

  /** mqtt-packet decodes topic, packet id and properties from a PUBLISH without its payload. */
  #parseHeader(head: Buffer): boolean {
    const synthetic = Buffer.allocUnsafe(1 + 4 + head.length);
    synthetic[0] = this.#first;
    let o = 1;
    let x = head.length;
    do {
      let byte = x & 0x7f;
      x >>>= 7;
      if (x > 0) byte |= 0x80;
      synthetic[o++] = byte;
    } while (x > 0);
    o += head.copy(synthetic, o);
    let packet: StreamedPublish | null = null;
    let error: Error | null = null;
    const parser = createParser(this.#c.version);
    parser.on('packet', (p: Packet) => (packet = p as StreamedPublish));
    parser.on('error', (e: Error) => (error = e));
    parser.parse(synthetic.subarray(0, o));
    if (packet === null) {
      this.#fail(error ?? new Error('PUBLISH variable header does not decode'));
      return false;
    }
    this.#packet = packet;
    // the payload's exact size: what is left of the packet
    this.#writer.setSize(this.#left);
    (packet as StreamedPublish).length = head.length + this.#left;
    return true;
  }

  #fail(error: Error): void {
    this.#writer.abort();
    this.#c.parseError(error);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Size of a PUBLISH's variable header at the start of `b` (topic, packet id when QoS > 0, MQTT 5
 * properties), or -1 when `b` does not hold all of it yet.
 */
function variableHeaderSize(b: Buffer, qos: number, v5: boolean): number {
  if (b.length < 2) return -1;
  let at = 2 + b.readUInt16BE(0) + (qos > 0 ? 2 : 0);
  if (!v5) return b.length >= at ? at : -1;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (at >= b.length || shift > 21) return -1;
    const byte = b[at++];
    length += (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  at += length;
  return b.length >= at ? at : -1;
}
