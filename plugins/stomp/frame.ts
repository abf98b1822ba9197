/**
 * The STOMP 1.0 / 1.1 / 1.2 frame codec: a parser over a growing buffer and a serializer.
 * Pure: no sockets, no broker. Frame grammar (STOMP 1.2 "Augmented BNF"):
 *
 *   frame   = command EOL *( header EOL ) EOL *OCTET NULL *( EOL )
 *   EOL     = [CR] LF
 *   header  = header-name ":" header-value
 *
 * The optional CR is accepted in every version (1.0 and 1.1 clients send CRLF too, and
 * RabbitMQ accepts it). EOLs between frames are heart-beats.
 */

import type { LargeBody } from '../../src/core/index.js';

export type StompVersion = '1.0' | '1.1' | '1.2';

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

export interface StompFrame {
  command: string;
  /** null-prototype object; on repeated headers the first one wins (STOMP 1.2 "Repeated Header Entries") */
  headers: Record<string, string>;
  body: Buffer;
  /** a body streamed to the journal as it arrived (FrameSink.bodySink); `body` is then empty */
  bodyRef?: LargeBody;
}

export interface FrameLimits {
  /** bytes of one frame: command, headers and body */
  maxFrameSize: number;
  maxHeaders: number;
  /** bytes of one header line (also the command line) */
  maxHeaderLength: number;
}

export const DEFAULT_LIMITS: FrameLimits = { maxFrameSize: 4 * 1024 * 1024, maxHeaders: 1000, maxHeaderLength: 64 * 1024 };

/** Malformed or oversized input: the connection answers with an ERROR frame and closes. */
export class FrameError extends Error {
  /** the ERROR frame's `message` header; `message` of the Error is the longer body text */
  readonly summary: string;
  constructor(summary: string, detail: string) {
    super(detail);
    this.name = 'FrameError';
    this.summary = summary;
  }
}

export interface FrameSink {
  onFrame(frame: StompFrame): void;
  /**
   * A frame with a content-length of `length` bytes may have its body streamed instead of
   * buffered: a sink taking the bytes as they arrive (views of the socket's chunks), or null to
   * buffer it as usual (within maxFrameSize). `onFrame` follows the last byte and the NUL, with
   * an empty `body`; a streamed body is not counted against maxFrameSize (the sink has its limit).
   */
  bodySink?(frame: StompFrame, length: number): StreamedBody | null;
}

/** Where a streamed body's bytes go (the connection: the journal, src/store/large-body.ts). */
export interface StreamedBody {
  write(bytes: Buffer): void;
  /** the frame will not complete (bad input, connection gone) */
  abort(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** Frames whose headers are never escaped (STOMP 1.2 "Value Encoding"). */
const UNESCAPED_COMMANDS = new Set(['CONNECT', 'STOMP', 'CONNECTED']);

/** A body shorter than this, cut from a larger socket chunk, is copied so the chunk can be freed. */
const COPY_BODY_BELOW = 4096;

/**
 * Parses frames out of the bytes of one connection, in order. `push` calls `sink.onFrame`
 * for each complete frame and throws `FrameError` on bad input; after an error the parser
 * stays dead. Bytes of an incomplete frame are kept as a list of chunks and joined only when
 * the frame can complete, so a large body arriving in many chunks is copied once.
 */
export class FrameParser {
  /**
   * Header escaping and 1.0 value trimming follow the negotiated version; null until then
   * (CONNECT headers are never escaped, and trimmed only once 1.0 is chosen).
   */
  version: StompVersion | null = null;
  readonly #limits: FrameLimits;
  readonly #sink: FrameSink;

  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** a body of known length: no frame can complete before this many bytes are pending */
  #need = 0;
  /** what an incomplete frame waits for: joining chunks is pointless until one holds that byte */
  #awaiting: typeof LF | typeof NUL | -1 = -1;
  /** bytes of the head's last, unterminated line among the pending chunks */
  #lineLength = 0;
  #dead = false;

  // a frame whose command and headers are parsed, waiting for its body
  #frame: StompFrame | null = null;
  #contentLength = -1;
  /** bytes of the parsed head, counted against maxFrameSize */
  #headSize = 0;
  /** the body being streamed to the sink, and how many of its bytes are still to come */
  #streamed: StreamedBody | null = null;
  #streamLeft = 0;

  constructor(sink: FrameSink, limits: FrameLimits = DEFAULT_LIMITS) {
    this.#sink = sink;
    this.#limits = limits;
  }

  /** bytes received but not yet part of a complete frame */
  get buffered(): number {
    return this.#pendingLength;
  }

  /** Ignore everything from now on (the connection is closing). */
  stop(): void {
    this.#dead = true;
    this.#pending = [];
    this.#pendingLength = 0;
    this.#abortStream();
  }

  #abortStream(): void {
    this.#streamed?.abort();
    this.#streamed = null;
  }

  push(chunk: Buffer): void {
    if (this.#dead || chunk.length === 0) return;
    try {
      this.#push(chunk);
    } catch (e) {
      this.#dead = true;
      this.#pending = [];
      this.#pendingLength = 0;
      this.#abortStream();
      throw e;
    }
  }

  #push(chunk: Buffer): void {
    let buf: Buffer;
    if (this.#pendingLength === 0) {
      buf = chunk;
    } else {
      this.#pending.push(chunk);
      this.#pendingLength += chunk.length;
      const mayComplete = this.#awaiting === -1 ? this.#pendingLength >= this.#need : chunk.indexOf(this.#awaiting) !== -1;
      if (!mayComplete) {
        if (this.#awaiting === LF) this.#lineLength += chunk.length;
        this.#checkIncomplete();
        return;
      }
      buf = Buffer.concat(this.#pending, this.#pendingLength);
    }
    this.#pending = [];
    this.#pendingLength = 0;
    this.#awaiting = -1;

    let pos = 0;
    while (pos < buf.length) {
      if (this.#frame === null) {
        pos = skipEols(buf, pos);
        if (pos >= buf.length) break;
        const headEnd = this.#parseHead(buf, pos);
        if (headEnd < 0) break; // incomplete head: keep it from its first byte
        pos = headEnd;
      }
      if (this.#streamed !== null) {
        pos = this.#feed(buf, pos);
        continue; // everything of buf up to pos went to the sink: nothing to keep
      }
      const next = this.#takeBody(buf, pos);
      if (next < 0) break;
      pos = next;
    }
    if (pos < buf.length) this.#keep(buf.subarray(pos));
  }

  /** Keep an incomplete tail; work out when parsing could succeed. */
  #keep(rest: Buffer): void {
    this.#pending.push(rest);
    this.#pendingLength = rest.length;
    if (this.#frame === null) {
      // a head completes only with an LF (its empty last line)
      this.#awaiting = LF;
      this.#lineLength = rest.length - (rest.lastIndexOf(LF) + 1);
    } else if (this.#contentLength >= 0) {
      this.#need = this.#contentLength + 1;
    } else {
      this.#awaiting = NUL; // rest holds no NUL, or #takeBody would have found it
    }
    this.#checkIncomplete();
  }

  /** Limits on what may be buffered while a frame is incomplete. */
  #checkIncomplete(): void {
    const { maxFrameSize, maxHeaderLength } = this.#limits;
    if (this.#frame === null) {
      if (this.#lineLength > maxHeaderLength + 1) throw headerTooLong(maxHeaderLength);
      if (this.#pendingLength > maxFrameSize) throw tooLarge(maxFrameSize);
    } else if (this.#headSize + this.#pendingLength > maxFrameSize + 1) {
      throw tooLarge(maxFrameSize);
    }
  }

  /**
   * Parse command and headers starting at `start`.
   * @returns the offset of the body, or -1 when the head is incomplete
   */
  #parseHead(buf: Buffer, start: number): number {
    const { maxHeaderLength, maxHeaders, maxFrameSize } = this.#limits;
    let lineStart = start;
    let command = '';
    const headers: Record<string, string> = Object.create(null);
    let count = 0;
    const version = this.version;
    let escaped = false;
    let trim = false;
    for (;;) {
      const lf = buf.indexOf(LF, lineStart);
      if (lf === -1) {
        if (buf.length - lineStart > maxHeaderLength + 1) throw headerTooLong(maxHeaderLength);
        if (buf.length - start > maxFrameSize) throw tooLarge(maxFrameSize);
        return -1;
      }
      const end = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
      if (end - lineStart > maxHeaderLength) throw headerTooLong(maxHeaderLength);
      if (lf + 1 - start > maxFrameSize) throw tooLarge(maxFrameSize);
      if (command === '') {
        command = buf.toString('utf8', lineStart, end);
        if (command === '') throw new FrameError('Bad frame', 'empty command line');
        escaped = version !== null && version !== '1.0' && !UNESCAPED_COMMANDS.has(command);
        trim = version === '1.0';
      } else if (end === lineStart) {
        const bodyStart = lf + 1;
        this.#startBody(command, headers, bodyStart - start);
        return bodyStart;
      } else {
        if (++count > maxHeaders) {
          throw new FrameError('Too many headers', `a frame may carry at most ${maxHeaders} headers`);
        }
        const line = buf.toString('utf8', lineStart, end);
        const colon = line.indexOf(':');
        if (colon === -1) throw new FrameError('Bad header', `header line without ':' in ${command} frame`);
        let name = line.slice(0, colon);
        let value = line.slice(colon + 1);
        if (escaped) {
          name = unescapeHeader(name, version!);
          value = unescapeHeader(value, version!);
        } else if (trim) {
          value = value.trimStart(); // 1.0 clients write "name: value" (RabbitMQ trims for 1.0)
        }
        if (!(name in headers)) headers[name] = value;
      }
      lineStart = lf + 1;
    }
  }

  #startBody(command: string, headers: Record<string, string>, headSize: number): void {
    let contentLength = -1;
    const cl = headers['content-length'];
    if (cl !== undefined) {
      const t = cl.trim();
      if (!/^\d{1,15}$/.test(t)) throw new FrameError('Invalid content-length', `content-length '${cl}' is not a byte count`);
      contentLength = Number(t);
    }
    const frame: StompFrame = { command, headers, body: EMPTY };
    const streamed = contentLength > 0 && this.#sink.bodySink !== undefined ? this.#sink.bodySink(frame, contentLength) : null;
    if (streamed !== null) {
      this.#streamed = streamed;
      this.#streamLeft = contentLength;
    } else if (contentLength >= 0 && headSize + contentLength + 1 > this.#limits.maxFrameSize) throw tooLarge(this.#limits.maxFrameSize);
    this.#frame = frame;
    this.#contentLength = contentLength;
    this.#headSize = headSize;
  }

  /** Bytes of a streamed body to its sink; at its end, its NUL and the frame. @returns where parsing goes on */
  #feed(buf: Buffer, pos: number): number {
    const n = Math.min(this.#streamLeft, buf.length - pos);
    if (n > 0) {
      this.#streamed!.write(buf.subarray(pos, pos + n));
      this.#streamLeft -= n;
      pos += n;
    }
    if (this.#streamLeft > 0 || pos === buf.length) return buf.length; // the rest, or the NUL, comes later
    if (buf[pos] !== NUL) throw new FrameError('Bad frame', `no NUL after the ${this.#contentLength} body bytes given by content-length`);
    const frame = this.#frame!;
    this.#frame = null;
    this.#contentLength = -1;
    this.#streamed = null;
    this.#sink.onFrame(frame);
    return pos + 1;
  }

  /** @returns the offset after the frame's NUL, or -1 when the body is incomplete */
  #takeBody(buf: Buffer, start: number): number {
    let end: number;
    if (this.#contentLength >= 0) {
      end = start + this.#contentLength;
      if (end >= buf.length) return -1;
      // STOMP 1.2 "Header content-length": the octets are read, then the frame still ends with NUL
      if (buf[end] !== NUL) {
        throw new FrameError('Bad frame', `no NUL after the ${this.#contentLength} body bytes given by content-length`);
      }
    } else {
      end = buf.indexOf(NUL, start);
      if (end === -1) {
        if (this.#headSize + (buf.length - start) > this.#limits.maxFrameSize) throw tooLarge(this.#limits.maxFrameSize);
        return -1;
      }
      if (this.#headSize + (end - start) + 1 > this.#limits.maxFrameSize) throw tooLarge(this.#limits.maxFrameSize);
    }
    const frame = this.#frame!;
    const length = end - start;
    if (length > 0) {
      const body = buf.subarray(start, end);
      frame.body = length < COPY_BODY_BELOW && buf.length > 2 * length ? Buffer.from(body) : body;
    }
    this.#frame = null;
    this.#contentLength = -1;
    this.#sink.onFrame(frame);
    return end + 1;
  }
}

const EMPTY = Buffer.alloc(0);

function skipEols(buf: Buffer, pos: number): number {
  while (pos < buf.length) {
    const b = buf[pos];
    if (b === LF) pos++;
    else if (b === CR && pos + 1 < buf.length && buf[pos + 1] === LF) pos += 2;
    else break;
  }
  return pos;
}

function tooLarge(max: number): FrameError {
  return new FrameError('Frame too large', `a frame may be at most ${max} bytes`);
}

function headerTooLong(max: number): FrameError {
  return new FrameError('Header too long', `a header line may be at most ${max} bytes`);
}

// ---- header escaping (STOMP 1.1 and 1.2 "Value Encoding") ---------------------------------

/** Undo `\r` (1.2 only), `\n`, `\c`, `\\`; any other escape is a fatal protocol error. */
export function unescapeHeader(s: string, version: StompVersion): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === 'n') out += '\n';
    else if (e === 'c') out += ':';
    else if (e === '\\') out += '\\';
    else if (e === 'r' && version === '1.2') out += '\r';
    else {
      throw new FrameError('Bad header', `undefined escape sequence '\\${e ?? ''}' in header (STOMP ${version})`);
    }
  }
  return out;
}

export { encodeFrame, encodeHead, escapeHeader, frameEnd, type HeaderList } from './frame-encode.js';
