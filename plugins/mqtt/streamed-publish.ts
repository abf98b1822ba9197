/**
 * A PUBLISH whose payload is a body kept in the journal (`Message.bodyRef`, a message above
 * `large_message_threshold`): the packet's header is encoded for the real payload size, then
 * the payload is streamed from the journal a MiB at a time (src/frontend/body-pump.ts). The
 * connection holds every packet it sends meanwhile (a packet's bytes must be contiguous) and
 * delivers nothing more until the payload is out.
 */
import type { Duplex } from 'node:stream';
import { BodyPump, type PumpOwner } from '../../src/frontend/index.js';
import type { LargeBody } from '../../src/core/index.js';
import { packetSize } from './codec.js';

/** What the stream needs of its connection. */
export interface StreamingConnection {
  streaming: OutboundBody | null;
  readonly clientMaxPacketSize: number;
  sendBytes(bytes: Buffer): boolean;
  sendStreamed(head: Buffer, body: LargeBody): void;
  /** the stream took everything: deliveries may go on */
  streamDrained(): void;
  destroy(): void;
}

/**
 * The header of `encoded` (a PUBLISH encoded with an empty payload) rewritten for a payload of
 * `payloadSize` bytes: the remaining length grows, the rest is unchanged. Null when the packet
 * would exceed the client's Maximum Packet Size (MQTT-3.1.2-25: not sent).
 */
export function streamedHead(encoded: Buffer, payloadSize: number, clientMaxPacketSize: number): Buffer | null {
  let remaining = 0;
  let at = 1;
  for (let shift = 0; ; shift += 7) {
    const b = encoded[at++];
    remaining += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const total = remaining + payloadSize;
  if (clientMaxPacketSize > 0 && packetSize(total) > clientMaxPacketSize) return null;
  const lengthBytes = packetSize(total) - 1 - total;
  const head = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  head[0] = encoded[0];
  let o = 1;
  let x = total;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    head[o++] = byte;
  } while (x > 0);
  encoded.copy(head, o, at);
  return head;
}

/** One payload going out, and what the connection sent meanwhile. */
export class OutboundBody implements PumpOwner {
  readonly #c: StreamingConnection;
  readonly #pump: BodyPump;
  /** packets sent while the payload streams, in order: bytes, or another streamed PUBLISH */
  readonly held: (Buffer | [Buffer, LargeBody])[] = [];

  constructor(c: StreamingConnection, stream: Duplex, body: LargeBody) {
    this.#c = c;
    this.#pump = new BodyPump(body, stream, this);
    this.#pump.start();
  }

  drained(): void {
    this.#pump.drained();
  }

  pumpDone(): void {
    const c = this.#c;
    c.streaming = null;
    for (let i = 0; i < this.held.length; i++) {
      const h = this.held[i];
      if (Buffer.isBuffer(h)) c.sendBytes(h);
      else c.sendStreamed(h[0], h[1]);
      if (c.streaming !== null) {
        // another payload started: the rest follows it
        (c.streaming as OutboundBody).held.push(...this.held.slice(i + 1));
        return;
      }
    }
    c.streamDrained();
  }

  /** Half a packet is on the wire and the rest cannot be read: nothing valid can follow it. */
  pumpFailed(): void {
    this.#c.streaming = null;
    this.#c.destroy();
  }
}
