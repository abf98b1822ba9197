/**
 * A thin wrapper on `mqtt-packet`: one streaming parser per connection, and packet encoding
 * for the connection's protocol version. mqtt-packet implements MQTT 3.1, 3.1.1 and 5.0
 * framing, including MQTT 5 properties; this file only adds what the broker needs around it
 * (encoding errors as values instead of events). Packets are framed in read-framing.ts.
 */
import mqttPacket from 'mqtt-packet';
import type { Packet, Parser } from 'mqtt-packet';

export type { Packet, Parser };
export type ProtocolVersion = 3 | 4 | 5;

/** A parser for one connection's byte stream; it learns the protocol version from CONNECT (or is told it). */
export function createParser(version: ProtocolVersion = 4): Parser {
  return mqttPacket.parser({ protocolVersion: version });
}

/** Total size of a packet with this remaining length: fixed header byte + variable-length integer + rest. */
export function packetSize(remainingLength: number): number {
  const lengthBytes = remainingLength < 128 ? 1 : remainingLength < 16384 ? 2 : remainingLength < 2097152 ? 3 : 4;
  return 1 + lengthBytes + remainingLength;
}

// mqtt-packet writes 2-byte numbers from a cache of 65,536 preallocated Buffers, built on its
// first use: ~6 MiB of heap that a broker keeps for ever, more than a thousand idle connections
// cost. Numbers are made per packet instead; the packets sent per message (PUBLISH, the acks)
// do not go through mqtt-packet at all (encodePublish, encodeAck).
mqttPacket.writeToStream.cacheNumbers = false;

const OPTIONS: Record<ProtocolVersion, { protocolVersion: ProtocolVersion }> = {
  3: { protocolVersion: 3 },
  4: { protocolVersion: 4 },
  5: { protocolVersion: 5 },
};

/**
 * Collects what mqtt-packet's `writeToStream` writes for one packet. `generate` does the same
 * with a new EventEmitter per packet; one reused plain collector saves that on every delivery.
 * (It has no `cork`, so writeToStream does not schedule an uncork for it.)
 */
class Collector {
  readonly chunks: (Buffer | string)[] = [];
  length = 0;
  error: Error | null = null;

  write(chunk: Buffer | string): boolean {
    this.chunks.push(chunk);
    this.length += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  }

  destroy(e?: Error): void {
    this.error = e ?? new Error('packet refused');
  }

  /** the packet as one buffer; resets the collector */
  take(): Buffer | null {
    const chunks = this.chunks;
    let out: Buffer | null = null;
    if (this.error === null) {
      out = Buffer.allocUnsafe(this.length);
      let at = 0;
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i];
        at += typeof c === 'string' ? out.write(c, at) : c.copy(out, at);
      }
    }
    chunks.length = 0;
    this.length = 0;
    this.error = null;
    return out;
  }
}

const collector = new Collector();

/**
 * Encode a packet for a protocol version. @returns null when mqtt-packet refuses it (an
 * invalid field): the caller logs and skips it rather than letting the error escape.
 */
export function encode(packet: Packet, version: ProtocolVersion): Buffer | null {
  const ack = encodeAck(packet, version);
  if (ack !== null) return ack;
  try {
    // Some refusals (an empty user-property map or value list, …) return false without a
    // destroy(): treat them as refusals, not as an empty packet (found by test/fuzz).
    if (!mqttPacket.writeToStream(packet, collector as unknown as NodeJS.WritableStream, OPTIONS[version])) collector.destroy();
  } catch (e) {
    collector.destroy(e as Error);
  }
  return collector.take();
}

/** first byte of each acknowledgement (MQTT 3.1.1 §3.4–3.7: PUBREL has the reserved flags 0010) */
const ACK_TYPES: Record<string, number> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/**
 * PUBACK / PUBREC / PUBREL / PUBCOMP without properties (one per QoS 1 or 2 message): four
 * bytes, fixed header + packet id. In MQTT 5 a success reason code with no properties may be
 * left out (MQTT 5 §3.4.2.1), so the packet is the same; other reason codes go through
 * mqtt-packet. Same bytes as mqtt-packet (test/plugins/mqtt/codec.test.ts).
 * @returns null when the packet is not one of those
 */
function encodeAck(packet: Packet, version: ProtocolVersion): Buffer | null {
  const first = ACK_TYPES[packet.cmd];
  if (first === undefined) return null;
  const p = packet as { messageId?: number; reasonCode?: number; properties?: unknown; dup?: boolean };
  const id = p.messageId;
  if (typeof id !== 'number' || id < 0 || id > 0xffff || p.properties !== undefined || p.dup === true) return null;
  if (version === 5 && p.reasonCode !== 0) return null;
  const out = Buffer.allocUnsafe(4);
  out[0] = first;
  out[1] = 2;
  out[2] = id >> 8;
  out[3] = id & 0xff;
  return out;
}

/**
 * The hot path: a PUBLISH without MQTT 5 properties (every 3.1.1 delivery, most 5.0 ones),
 * encoded straight into one buffer (MQTT 3.1.1 §3.3, MQTT 5 §3.3). Same bytes as
 * mqtt-packet produces (checked in test/plugins/mqtt/codec.test.ts), without building a
 * packet object or going through its stream writer.
 */
export function encodePublish(topic: string, payload: Buffer, qos: number, dup: boolean, retain: boolean, messageId: number, version: ProtocolVersion): Buffer {
  const topicLength = Buffer.byteLength(topic);
  // topic (2 + n), packet id when QoS > 0, MQTT 5 property length (0: none), payload
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (version === 5 ? 1 : 0) + payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  out[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  let at = 1;
  let x = remaining;
  do {
    let byte = x & 0x7f;
    x >>>= 7;
    if (x > 0) byte |= 0x80;
    out[at++] = byte;
  } while (x > 0);
  out[at++] = topicLength >> 8;
  out[at++] = topicLength & 0xff;
  at += out.write(topic, at);
  if (qos > 0) {
    out[at++] = messageId >> 8;
    out[at++] = messageId & 0xff;
  }
  if (version === 5) out[at++] = 0;
  payload.copy(out, at);
  return out;
}

