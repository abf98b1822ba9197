/**
 * The STOMP frame serializer (STOMP 1.2 "Augmented BNF", "Value Encoding"): heads with their
 * headers escaped for the negotiated version, whole frames, and the terminator. Pure.
 */
import type { StompVersion } from './frame.js';

const LF = 0x0a;
const NUL = 0x00;
const EMPTY = Buffer.alloc(0);

const NEEDS_ESCAPE_12 = /[\\\r\n:]/;
const NEEDS_ESCAPE_11 = /[\\\n:]/;
const LINE_BREAKS = /[\r\n]/g;

/**
 * Escape a header name or value for `version`. 1.0 has no escaping: a line break cannot be
 * represented, so it becomes a space rather than breaking the frame.
 */
export function escapeHeader(s: string, version: StompVersion): string {
  if (version === '1.2') {
    if (!NEEDS_ESCAPE_12.test(s)) return s;
    return s.replace(/[\\\r\n:]/g, escapeChar);
  }
  if (version === '1.1') {
    if (!NEEDS_ESCAPE_11.test(s)) return s;
    return s.replace(/[\\\n:]/g, escapeChar);
  }
  return s.replace(LINE_BREAKS, ' ');
}

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '\r':
      return '\\r';
    case '\n':
      return '\\n';
    default:
      return '\\c';
  }
}

// ---- serializing ----------------------------------------------------------------------------

export type HeaderList = readonly (readonly [string, string])[];

const NUL_LF = Buffer.from([NUL, LF]);
const NUL_ONLY = Buffer.from([NUL]);

/**
 * Encode a frame's command and headers, up to and including the blank line. Headers are
 * escaped for `version` except on CONNECTED (STOMP 1.2 "Value Encoding"). A `content-length`
 * header is added whenever there is a body, so bodies may hold NULs.
 */
export function encodeHead(command: string, headers: HeaderList, bodyLength: number, version: StompVersion): string {
  const escape = command !== 'CONNECTED';
  let head = command + '\n';
  for (const [name, value] of headers) {
    head += escape ? escapeHeader(name, version) + ':' + escapeHeader(value, version) + '\n' : name + ':' + value + '\n';
  }
  if (bodyLength > 0) head += 'content-length:' + bodyLength + '\n';
  return head + '\n';
}

/**
 * Encode one whole frame.
 * @param trailingLf add an EOL after the NUL (allowed by the grammar; RabbitMQ's default)
 */
export function encodeFrame(
  command: string,
  headers: HeaderList,
  body: Buffer | string | null,
  version: StompVersion,
  trailingLf = false,
): Buffer {
  const bodyBuf = body === null ? EMPTY : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = encodeHead(command, headers, bodyBuf.length, version);
  return Buffer.concat([Buffer.from(head, 'utf8'), bodyBuf, trailingLf ? NUL_LF : NUL_ONLY]);
}

/** The frame terminator, with or without the trailing EOL. */
export function frameEnd(trailingLf: boolean): Buffer {
  return trailingLf ? NUL_LF : NUL_ONLY;
}
