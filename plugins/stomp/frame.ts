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

export type StompVersion = '1.0' | '1.1' | '1.2';

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

export interface StompFrame {
  command: string;
  /** null-prototype object; on repeated headers the first one wins (STOMP 1.2 "Repeated Header Entries") */
  headers: Record<string, string>;
  body: Buffer;
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
  }

  push(chunk: Buffer): void {
    if (this.#dead || chunk.length === 0) return;
    try {
      this.#push(chunk);
    } catch (e) {
      this.#dead = true;
      this.#pending = [];
      this.#pendingLength = 0;
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
      if (headSize + contentLength + 1 > this.#limits.maxFrameSize) throw tooLarge(this.#limits.maxFrameSize);
    }
    this.#frame = { command, headers, body: EMPTY };
    this.#contentLength = contentLength;
    this.#headSize = headSize;
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
