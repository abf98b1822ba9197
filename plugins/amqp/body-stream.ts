/**
 * The body frames of a content whose body stays in the journal (a `LargeBody`): read a
 * piece at a time (about a MiB), cut into frames of the connection's frame-max, written to the
 * socket, and the next piece read only once the socket has taken the last one ('drain'), so a
 * body of any size costs a MiB or two of memory while it goes out. The method and header
 * frames went out before it (content.ts with the body's size); AMQP 0-9-1 §4.2.6 wants the
 * body frames of one content to follow them with nothing else on that channel, so the frame
 * writer holds every other frame of the connection until `done` (frame-writer.ts).
 */
import type { Duplex } from 'node:stream';
import type { LargeBody } from '../../src/core/index.js';
import { FRAME_BODY, FRAME_END, FRAME_OVERHEAD } from './codec/constants.js';
import { bodyChunk, writeFrameHeader } from './codec/content.js';

/** Bytes read from the journal per step. */
const READ_BYTES = 1024 * 1024;

export interface BodyStreamOwner {
  /** the body went out whole: the writer goes on with what it held */
  streamDone(stream: BodyStream): void;
  /** the body could not be read: the content cannot be finished, the connection must go */
  streamFailed(stream: BodyStream, error: Error): void;
  /** bytes written, for the connection's traffic counters and heartbeats */
  streamWrote(): void;
}

export class BodyStream {
  readonly body: LargeBody;
  readonly channel: number;
  readonly #chunk: number;
  readonly #socket: Duplex;
  readonly #owner: BodyStreamOwner;
  #part = 0;
  /** body bytes not yet written */
  #left: number;
  /** bytes left in the frame being written (its header went out) */
  #frameLeft = 0;
  #waitingDrain = false;
  #stopped = false;

  constructor(body: LargeBody, channel: number, frameMax: number, socket: Duplex, owner: BodyStreamOwner) {
    this.body = body;
    this.channel = channel;
    this.#chunk = bodyChunk(frameMax);
    this.#socket = socket;
    this.#owner = owner;
    this.#left = body.size;
  }

  start(): void {
    this.#readNext();
  }

  /** The socket's 'drain': the next piece may be read. */
  drained(): void {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.#readNext();
  }

  /** The connection is going away: read nothing more. */
  stop(): void {
    this.#stopped = true;
  }

  #readNext(): void {
    if (this.#stopped) return;
    this.body.read(this.#part, READ_BYTES, (error, chunks, next) => this.#onRead(error, chunks, next));
  }

  #onRead(error: Error | null, chunks: Buffer[], next: number): void {
    if (this.#stopped) return;
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return this.stop();
    if (error !== null) {
      this.stop();
      this.#owner.streamFailed(this, error);
      return;
    }
    this.#part = next;
    // one buffer for every frame separator of this piece: frame-end + next frame's header
    const separators = Buffer.allocUnsafe((Math.ceil(READ_BYTES / this.#chunk) + 2 * chunks.length + 2) * FRAME_OVERHEAD);
    let s = 0;
    let ok = true;
    socket.cork();
    for (const c of chunks) {
      let pos = 0;
      while (pos < c.length) {
        if (this.#frameLeft === 0) {
          const n = Math.min(this.#chunk, this.#left);
          const start = s;
          if (this.#left !== this.body.size) separators[s++] = FRAME_END; // closes the previous frame
          s = writeFrameHeader(separators, s, FRAME_BODY, this.channel, n);
          ok = socket.write(separators.subarray(start, s));
          this.#frameLeft = n;
        }
        const take = Math.min(this.#frameLeft, c.length - pos);
        ok = socket.write(pos === 0 && take === c.length ? c : c.subarray(pos, pos + take));
        pos += take;
        this.#frameLeft -= take;
        this.#left -= take;
      }
    }
    const finished = this.#left === 0;
    if (finished) ok = socket.write(FRAME_END_ONLY);
    socket.uncork();
    this.#owner.streamWrote();
    if (finished) {
      this.#stopped = true;
      this.#owner.streamDone(this);
    } else if (!ok || socket.writableNeedDrain) this.#waitingDrain = true;
    else this.#readNext();
  }
}

const FRAME_END_ONLY = Buffer.from([FRAME_END]);
