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
  // bodies in ack order (parallel arrays: no object per body); the first #handed of them
  // passed step 1, the rest were acked since the last flush that handed frames to the socket
  readonly #bodies: Buffer[] = [];
  readonly #fences: BodyFence[] = [];
  readonly #lsns: number[] = [];
  #handed = 0;
  /** buffer bytes of the bodies after #handed */
  #waitingBytes = 0;

  constructor(socket: Duplex) {
    this.#socket = socket;
    this.recycles = socket instanceof Socket && !(socket instanceof TLSSocket);
  }

  /** bodies waiting for step 1 (tests) */
  get waiting(): number {
    return this.#bodies.length - this.#handed;
  }

  /** A body whose message just ended (SessionHandler.bodyDone). @returns false when it is left to the GC */
  add(body: Buffer, fence: BodyFence, lsn: number): boolean {
    if (!this.recycles) return false;
    const bytes = body.buffer.byteLength;
    if (this.#waitingBytes + bytes > MAX_WAITING_BYTES) return false;
    this.#waitingBytes += bytes;
    this.#bodies.push(body);
    this.#fences.push(fence);
    this.#lsns.push(lsn);
    return true;
  }

  /** Everything queued so far is with the socket: then, if it has written it all, release. */
  handed(): void {
    this.#handed = this.#bodies.length;
    this.#waitingBytes = 0;
    this.drained();
  }

  /** The socket may have written everything ('drain', or after a flush): release what was handed, if so. */
  drained(): void {
    const n = this.#handed;
    if (n === 0 || this.#socket.writableLength !== 0 || this.#socket.destroyed) return;
    const bodies = this.#bodies;
    const fences = this.#fences;
    const lsns = this.#lsns;
    for (let i = 0; i < n; i++) bodyPool.release(bodies[i], fences[i], lsns[i]);
    if (n === bodies.length) {
      bodies.length = fences.length = lsns.length = 0;
    } else {
      // bodies acked since that flush move to the front
      bodies.splice(0, n);
      fences.splice(0, n);
      lsns.splice(0, n);
    }
    this.#handed = 0;
  }
}
