/**
 * A body kept in the journal (`Message.bodyRef`), written raw onto a connection's stream — the
 * body of a STOMP MESSAGE frame, the payload of an MQTT PUBLISH — a piece at a time: about a
 * MiB is read, written, and the next piece read only once the stream has taken it ('drain'),
 * so a delivery of any size holds a MiB or two. The front-end writes what precedes the body
 * (frame head, packet header) before `start`, what follows it on `pumpDone`, and holds every
 * other write of the connection meanwhile (the body's bytes must be contiguous on the wire).
 * AMQP, whose body is cut into frames, writes each piece itself (`pumpWrite`,
 * plugins/amqp/body-stream.ts).
 */
import type { Duplex } from 'node:stream';
import type { LargeBody } from '../store/large-body.js';

/** Bytes read from the journal per step. */
const READ_BYTES = 1024 * 1024;

export interface PumpOwner {
  /** the whole body was written: the owner writes what follows and goes on */
  pumpDone(): void;
  /** the body could not be read mid-way: the connection cannot go on (nothing valid can follow) */
  pumpFailed(error: Error): void;
  /**
   * Write one piece read from the journal (in body order) instead of the raw bytes, and say
   * whether the stream takes more now (false: the pump waits for `drained`).
   */
  pumpWrite?(chunks: Buffer[]): boolean;
}

export class BodyPump {
  readonly #body: LargeBody;
  readonly #stream: Duplex;
  readonly #owner: PumpOwner;
  #part = 0;
  #waitingDrain = false;
  #stopped = false;

  constructor(body: LargeBody, stream: Duplex, owner: PumpOwner) {
    this.#body = body;
    this.#stream = stream;
    this.#owner = owner;
  }

  start(): void {
    this.#readNext();
  }

  /** The connection is going away: read nothing more. */
  stop(): void {
    this.#stopped = true;
  }

  /** The stream's 'drain': the next piece may be read. */
  drained(): void {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.#readNext();
  }

  #readNext(): void {
    if (this.#stopped) return;
    if (this.#part >= this.#body.partCount) {
      this.#stopped = true;
      this.#owner.pumpDone();
      return;
    }
    this.#body.read(this.#part, READ_BYTES, (error, chunks, next) => this.#onRead(error, chunks, next));
  }

  #onRead(error: Error | null, chunks: Buffer[], next: number): void {
    if (this.#stopped) return;
    const stream = this.#stream;
    if (stream.destroyed || !stream.writable) {
      this.#stopped = true;
      return;
    }
    if (error !== null) {
      this.#stopped = true;
      this.#owner.pumpFailed(error);
      return;
    }
    this.#part = next;
    let ok = true;
    if (this.#owner.pumpWrite !== undefined) ok = this.#owner.pumpWrite(chunks);
    else for (const c of chunks) ok = stream.write(c);
    if (!ok || stream.writableNeedDrain) this.#waitingDrain = true;
    else this.#readNext();
  }
}
