/**
 * Parsers lent to connections for one read at a time. An mqtt-packet parser is a stream with
 * its own buffer list, state and listeners (~1.5 KiB, and it keeps the CONNECT packet as its
 * settings): an idle device does not need one between its packets. A read that ends on a
 * packet boundary — nearly every read — is parsed by the one spare parser, which is then free
 * for the next connection; only a connection whose packet is split across reads keeps the
 * parser that holds the first part, until the packet is complete.
 *
 * The parsed packets go to the connection the read belongs to (`PacketSink`). A parse inside
 * another one (a sink that reads synchronously) gets a parser of its own.
 */
import { createParser, type Packet, type Parser, type ProtocolVersion } from './codec.js';

/** Where a read's packets and parse errors go. */
export interface PacketSink {
  parsedPacket(packet: Packet): void;
  parseError(error: Error): void;
}

/** mqtt-packet's parser state that says whether it holds part of a packet (not in its typings) */
interface ParserState {
  _list: { length: number };
  _stateCounter: number;
  settings: { protocolVersion?: number };
}

/** what mqtt-packet reads from its settings: the protocol version (shared, one per version) */
const SETTINGS: Record<ProtocolVersion, { protocolVersion: ProtocolVersion }> = {
  3: { protocolVersion: 3 },
  4: { protocolVersion: 4 },
  5: { protocolVersion: 5 },
};

let sink: PacketSink | null = null;
let spare: Parser | null = null;

function newParser(): Parser {
  const parser = createParser();
  parser.on('packet', (packet: Packet) => sink!.parsedPacket(packet));
  parser.on('error', (e: Error) => sink!.parseError(e));
  return parser;
}

/** whether the parser is between packets: nothing buffered, no header half read */
function between(parser: Parser): boolean {
  const s = parser as unknown as ParserState;
  return s._list.length === 0 && s._stateCounter === 0;
}

/**
 * Parse one read of `to`'s stream with `own` (the parser holding `to`'s split packet) or a
 * lent one. @returns the parser `to` must keep until its next read (a packet is split), or null
 */
export function parseRead(to: PacketSink, own: Parser | null, version: ProtocolVersion, chunk: Buffer): Parser | null {
  const outer = sink;
  let parser = own;
  if (parser === null) {
    if (spare !== null) {
      parser = spare;
      spare = null;
    } else parser = newParser();
    // the version this connection speaks (mqtt-packet sets it itself when it parses a CONNECT)
    (parser as unknown as ParserState).settings = SETTINGS[version];
  }
  sink = to;
  try {
    parser.parse(chunk);
  } finally {
    sink = outer;
  }
  if (!between(parser)) return parser;
  if (spare === null) spare = parser;
  return null;
}

