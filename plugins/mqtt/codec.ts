/**
 * A thin wrapper on `mqtt-packet`: one streaming parser per connection, and packet encoding
 * for the connection's protocol version. mqtt-packet implements MQTT 3.1, 3.1.1 and 5.0
 * framing, including MQTT 5 properties; this file only adds what the broker needs around it
 * (the size of a packet still arriving, encoding errors as values instead of events).
 */
import mqttPacket from 'mqtt-packet';
import type { Packet, Parser } from 'mqtt-packet';

export type { Packet, Parser };
export type ProtocolVersion = 3 | 4 | 5;

/** A parser for one connection's byte stream; it learns the protocol version from CONNECT. */
export function createParser(): Parser {
  return mqttPacket.parser({ protocolVersion: 4 });
}

/** What the parser keeps about the packet it is assembling (mqtt-packet's `Packet`, not in its typings). */
interface ParserInternals {
  packet?: { length?: number };
}

/**
 * Remaining length of the packet the parser is still assembling, or -1 when it has not read
 * that far. Lets the connection refuse an oversized packet from its fixed header, before
 * buffering its body (MQTT-3.2.2-15's counterpart on the server side).
 */
export function pendingRemainingLength(parser: Parser): number {
  const length = (parser as unknown as ParserInternals).packet?.length;
  return typeof length === 'number' ? length : -1;
}

/** Total size of a packet with this remaining length: fixed header byte + variable-length integer + rest. */
export function packetSize(remainingLength: number): number {
  const lengthBytes = remainingLength < 128 ? 1 : remainingLength < 16384 ? 2 : remainingLength < 2097152 ? 3 : 4;
  return 1 + lengthBytes + remainingLength;
}

const OPTIONS: Record<ProtocolVersion, { protocolVersion: ProtocolVersion }> = {
  3: { protocolVersion: 3 },
  4: { protocolVersion: 4 },
  5: { protocolVersion: 5 },
};

/**
 * Encode a packet for a protocol version. @returns null when mqtt-packet refuses it (an
 * invalid field): the caller logs and skips it rather than letting the error escape.
 */
export function encode(packet: Packet, version: ProtocolVersion): Buffer | null {
  try {
    return mqttPacket.generate(packet, OPTIONS[version]);
  } catch {
    return null;
  }
}
