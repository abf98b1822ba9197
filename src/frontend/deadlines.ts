/**
 * One timer for the deadlines of every front-end connection: the handshake or login a client
 * must finish in time, MQTT's keep-alive. A connection sets its next deadline here instead of
 * holding a `setTimeout` of its own (a Timeout object and a closure each); the deadlines sit
 * in a min-heap (src/util/min-heap.ts) under one timer armed for the earliest.
 *
 * Setting a deadline replaces the connection's previous one, which stays in the heap until
 * its time and is then skipped: nothing is searched or removed when a deadline is moved or
 * cleared, which happens far more often than one passes.
 */
import { MinHeap } from '../util/min-heap.js';

export interface Expiring {
  /** which deadline of the connection is current; written by `Deadlines` only (0: none) */
  deadlineToken: number;
  /** the current deadline passed; set a new one from here if there is to be one */
  deadlinePassed(): void;
}

interface Entry {
  owner: Expiring;
  token: number;
}

export class Deadlines {
  readonly #heap = new MinHeap<Entry>();
  #nextToken = 1;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = 0;

  /** `owner.deadlinePassed()` at `at` (ms since the epoch), instead of any deadline it had. */
  set(owner: Expiring, at: number): void {
    const token = this.#nextToken++;
    owner.deadlineToken = token;
    this.#heap.push(at, { owner, token });
    if (this.#timer === null || at < this.#timerAt) this.#arm(at);
  }

  clear(owner: Expiring): void {
    owner.deadlineToken = 0;
  }

  #arm(at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#due, Math.max(1, at - Date.now()));
    this.#timer.unref();
  }

  /**
   * The timer fired: the deadlines are judged after the event loop's next poll phase, so that
   * bytes already waiting in a socket are read first and count — a CONNECT that sat unread
   * while the loop was behind (10,000 devices reconnecting at once) does not get its
   * connection closed as silent.
   */
  readonly #due = (): void => {
    this.#timer = null;
    setImmediate(this.#tick);
  };

  readonly #tick = (): void => {
    const heap = this.#heap;
    const now = Date.now();
    while (heap.size > 0 && heap.peekKey()! <= now) {
      const { owner, token } = heap.pop()!;
      if (owner.deadlineToken !== token) continue;
      owner.deadlineToken = 0;
      owner.deadlinePassed();
    }
    if (heap.size > 0 && (this.#timer === null || heap.peekKey()! < this.#timerAt)) this.#arm(heap.peekKey()!);
  };
}

/** The deadlines of every connection of this process. */
export const deadlines = new Deadlines();
