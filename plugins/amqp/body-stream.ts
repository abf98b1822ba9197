/**
 * The body frames of a content whose body stays in the journal (a `LargeBody`): read a
 * piece at a time (about a MiB), cut into frames of the connection's frame-max, written to the
 * socket, and the next piece read only once the socket has taken the last one ('drain'), so a
 * body of any size costs a MiB or two of memory while it goes out (the reading and the waiting
 * are the front-end kit's BodyPump; this class cuts what it reads into frames). The method and header
 * frames went out before it (content.ts with the body's size); AMQP 0-9-1 §4.2.6 wants the
 * body frames of one content to follow them with nothing else on that channel, so the frame
 * writer holds every other frame of the connection until `done` (frame-writer.ts).
 */
import type { Duplex } from 'node:stream';
import type { LargeBody } from '../../src/core/index.js';
import { BodyPump, type PumpOwner } from '../../src/frontend/index.js';
import { FRAME_BODY, FRAME_END, FRAME_OVERHEAD } from './codec/constants.js';
import { bodyChunk, writeFrameHeader } from './codec/content.js';

/** Bytes the pump reads from the journal per step (src/frontend/body-pump.ts). */
const READ_BYTES = 1024 * 1024;

export interface BodyStreamOwner {
  /** the body went out whole: the writer goes on with what it held */
  streamDone(stream: BodyStream): void;
  /** the body could not be read: the content cannot be finished, the connection must go */
  streamFailed(stream: BodyStream, error: Error): void;
  /** bytes written, for the connection's traffic counters and heartbeats */
  streamWrote(): void;
}

export class BodyStream implements PumpOwner {
  readonly body: LargeBody;
  readonly channel: number;
  readonly #chunk: number;
  readonly #socket: Duplex;
  readonly #owner: BodyStreamOwner;
  readonly #pump: BodyPump;
  /** body bytes not yet written */
  #left: number;
  /** bytes left in the frame being written (its header went out) */
  #frameLeft = 0;

  constructor(body: LargeBody, channel: number, frameMax: number, socket: Duplex, owner: BodyStreamOwner) {
    this.body = body;
    this.channel = channel;
    this.#chunk = bodyChunk(frameMax);
    this.#socket = socket;
    this.#owner = owner;
    this.#left = body.size;
    this.#pump = new BodyPump(body, socket, this);
  }

  start(): void {
    this.#pump.start();
  }

  /** The socket's 'drain': the next piece may be read. */
  drained(): void {
    this.#pump.drained();
  }

  /** The connection is going away: read nothing more. */
  stop(): void {
    this.#pump.stop();
  }

  // ---- PumpOwner --------------------------------------------------------------------------

  /** One piece read from the journal, cut into body frames of the connection's frame-max. */
  pumpWrite(chunks: Buffer[]): boolean {
    const socket = this.#socket;
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
    if (this.#left === 0) ok = socket.write(FRAME_END_ONLY);
    socket.uncork();
    this.#owner.streamWrote();
    return ok;
  }

  pumpDone(): void {
    this.#owner.streamDone(this);
  }

  pumpFailed(error: Error): void {
    this.#owner.streamFailed(this, error);
  }
}

const FRAME_END_ONLY = Buffer.from([FRAME_END]);
