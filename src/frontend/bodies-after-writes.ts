/**
 * Pooled bodies a front-end gives back once its socket no longer reads them (rule 3 of
 * src/core/body-pool.ts).
 *
 * When an ack ends a message, its delivery is at least queued for the socket (a tag exists
 * only once delivered), but it may not have been written yet: a client may ack a tag before
 * it has read it (`multiple`, or a guess), and its bytes may still sit in the connection's
 * write queue or in libuv's. So a body moves in two steps:
 * 1. `handed`: the writer handed everything queued until now to the socket (its flush, with no
 *    streamed body holding frames back): the body's frames are among them;
 * 2. `drained`: the socket has nothing pending (`writableLength` 0: every write's callback has
 *    run, so the kernel has every byte): the bodies of step 1 go back to the pool.
 * Only plain TCP sockets qualify: a TLS or WebSocket stream may keep plaintext past its
 * write callbacks, so there `recycles` is false and nothing is kept.
 */
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { bodyPool, type BodyFence } from '../core/body-pool.js';

/**
 * Bodies kept waiting for step 1, by capacity; more are left to the GC. Step 1 needs a flush
 * with no journal-streamed body queued, and a consumer fed large (streamed) and pooled bodies
 * in turn may never see one: without a bound every pooled body it acks would be kept.
 */
const MAX_WAITING_BYTES = 32 * 1024 * 1024;

export class BodiesAfterWrites {
  /** false: bodies are left to the GC (not a plain TCP socket) */
  readonly recycles: boolean;
  readonly #socket: Duplex;
  // acked, frames possibly not handed to the socket yet (parallel arrays: no object per body)
  #acked: Buffer[] = [];
  #ackedFences: BodyFence[] = [];
  #ackedLsns: number[] = [];
  #ackedBytes = 0;
  // frames handed to the socket, maybe not all written
  #handed: Buffer[] = [];
  #handedFences: BodyFence[] = [];
  #handedLsns: number[] = [];

  constructor(socket: Duplex) {
    this.#socket = socket;
    this.recycles = socket instanceof Socket && !(socket instanceof TLSSocket);
  }

  /** bodies waiting for step 1 (tests) */
  get waiting(): number {
    return this.#acked.length;
  }

  /** A body whose message just ended (SessionHandler.bodyDone). */
  add(body: Buffer, fence: BodyFence, lsn: number): void {
    if (!this.recycles) return;
    const bytes = body.buffer.byteLength;
    if (this.#ackedBytes + bytes > MAX_WAITING_BYTES) return;
    this.#ackedBytes += bytes;
    this.#acked.push(body);
    this.#ackedFences.push(fence);
    this.#ackedLsns.push(lsn);
  }

  /** Everything queued so far is with the socket: then, if it has written it all, release. */
  handed(): void {
    if (this.#acked.length > 0) {
      this.#ackedBytes = 0;
      if (this.#handed.length === 0) {
        const b = this.#handed;
        const f = this.#handedFences;
        const l = this.#handedLsns;
        this.#handed = this.#acked;
        this.#handedFences = this.#ackedFences;
        this.#handedLsns = this.#ackedLsns;
        this.#acked = b;
        this.#ackedFences = f;
        this.#ackedLsns = l;
      } else {
        for (let i = 0; i < this.#acked.length; i++) {
          this.#handed.push(this.#acked[i]);
          this.#handedFences.push(this.#ackedFences[i]);
          this.#handedLsns.push(this.#ackedLsns[i]);
        }
        this.#acked.length = this.#ackedFences.length = this.#ackedLsns.length = 0;
      }
    }
    this.drained();
  }

  /** The socket may have written everything ('drain', or after a flush): release what was handed, if so. */
  drained(): void {
    const handed = this.#handed;
    if (handed.length === 0 || this.#socket.writableLength !== 0 || this.#socket.destroyed) return;
    const fences = this.#handedFences;
    const lsns = this.#handedLsns;
    for (let i = 0; i < handed.length; i++) bodyPool.release(handed[i], fences[i], lsns[i]);
    handed.length = fences.length = lsns.length = 0;
  }
}
