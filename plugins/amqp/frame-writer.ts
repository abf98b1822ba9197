/**
 * Write batching and socket backpressure for one connection.
 *
 * Frames produced while handling input (replies, deliveries, confirms) are queued and
 * written together once per event-loop turn (setImmediate): one cork/uncork, so the socket
 * gathers them into a single writev. When the socket's buffer is full (`write` returned
 * false), the owner is told, and told again on 'drain' (`drained`): it stops and resumes deliveries.
 */
import type { Duplex } from 'node:stream';
import type { LargeBody } from '../../src/core/index.js';
import { HEARTBEAT_FRAME } from './codec/constants.js';
import { BodiesAfterWrites, type SocketTraffic } from '../../src/frontend/index.js';
import { BodyStream, type BodyStreamOwner } from './body-stream.js';

export interface WriterOwner {
  /** called just before a batch is written: last chance to add coalesced frames (confirms) */
  beforeFlush(): void;
  /** the socket's buffer filled up (false) or drained (true); also false while a body streams */
  writableChanged(writable: boolean): void;
}

/**
 * While a body streams from the journal (body-stream.ts), nothing else is written: frames
 * queued meanwhile wait in `out` (deliveries stop: the owner is told the socket is not
 * writable), and go out, up to the next streamed body, once it is done.
 */
export class FrameWriter implements BodyStreamOwner {
  /**
   * The frames queued this turn. Encoders append to it directly (`writeDeliver(writer.out, …)`);
   * call `scheduleFlush()` after.
   */
  out: Buffer[] = [];
  /** set on every flush; the heartbeat monitor clears it each tick */
  wroteSinceTick = false;
  /** the connection's socket traffic, for management */
  readonly traffic: SocketTraffic;
  /** pooled bodies of acked deliveries, given back once their frames are written */
  readonly bodies: BodiesAfterWrites;
  readonly #socket: Duplex;
  readonly #owner: WriterOwner;
  #scheduled = false;
  #blocked = false;
  #answerRead = false;
  /** bodies to stream, each after the frame at `at` of `out` */
  #streams: { at: number; stream: BodyStream }[] = [];
  #active: BodyStream | null = null;

  constructor(socket: Duplex, owner: WriterOwner, traffic: SocketTraffic) {
    this.#socket = socket;
    this.#owner = owner;
    this.traffic = traffic;
    this.bodies = new BodiesAfterWrites(socket);
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  write(frame: Buffer): void {
    this.out.push(frame);
    this.scheduleFlush();
  }

  /** The body frames of the content whose header was just queued come from the journal. */
  writeBody(body: LargeBody, channel: number, frameMax: number): void {
    this.#streams.push({ at: this.out.length, stream: new BodyStream(body, channel, frameMax, this.#socket, this) });
    this.scheduleFlush();
  }

  /**
   * Write at least a heartbeat frame this turn, unless something else goes out anyway.
   *
   * Why: a client with Nagle's algorithm on (amqplib's default) that writes two small things
   * in a row — a reply publish, then the ack of the request it answered — holds the second
   * in its kernel until the first is ACKed by ours; with nothing to send back on this socket,
   * our kernel delays that ACK by 40 ms (Linux's delayed ACK), so the ack, and with it the
   * consumer's next delivery, waits 40 ms. Any segment we send carries the ACK at once, and a
   * heartbeat frame is the one thing AMQP lets a peer send at any time (§4.2.7). The
   * connection asks for this only while heartbeats were negotiated and a consumer of its
   * waits for acks.
   */
  answerRead(): void {
    if (this.#answerRead) return;
    this.#answerRead = true;
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(flushWriter, this);
  }

  /** Write everything queued now (also used before ending the socket). */
  flush(): void {
    this.#scheduled = false;
    if (this.#active !== null) return; // everything waits for the body going out
    this.#owner.beforeFlush();
    if (this.#answerRead) {
      this.#answerRead = false;
      if (this.out.length === 0) this.out.push(HEARTBEAT_FRAME);
    }
    let out = this.out;
    if (out.length === 0) {
      if (this.#streams.length === 0) this.bodies.handed(); // everything queued went out before
      return;
    }
    const next = this.#streams.length > 0 ? this.#streams.shift()! : null;
    if (next === null) this.out = [];
    else {
      this.out = out.slice(next.at);
      out = out.slice(0, next.at);
      for (const s of this.#streams) s.at -= next.at;
    }
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    this.wroteSinceTick = true;
    this.traffic.writes++;
    let ok = true;
    if (out.length === 1) {
      if (out[0].length > 0) ok = socket.write(out[0]);
    } else {
      socket.cork();
      for (let i = 0; i < out.length; i++) if (out[i].length > 0) ok = socket.write(out[i]);
      socket.uncork();
    }
    if ((!ok || socket.writableNeedDrain || next !== null) && !this.#blocked) {
      this.#blocked = true;
      this.#owner.writableChanged(false);
    }
    if (next !== null) {
      this.#active = next.stream;
      next.stream.start();
    } else if (this.#streams.length === 0) {
      this.bodies.handed();
    }
  }

  /** The socket's 'drain' (its owner listens): deliveries may go on. */
  drained(): void {
    this.bodies.drained();
    if (this.#active !== null) return this.#active.drained();
    if (!this.#blocked) return;
    this.#blocked = false;
    this.#owner.writableChanged(true);
  }

  // ---- BodyStreamOwner ----------------------------------------------------------------------

  streamDone(): void {
    this.#active = null;
    this.flush();
    if (this.#active === null && !this.#socket.writableNeedDrain) this.drained();
  }

  /** Half a content is on the wire and the rest cannot be read: no frame can follow it, so the connection ends (its 'error' is logged). */
  streamFailed(_stream: BodyStream, error: Error): void {
    this.#active = null;
    this.#socket.destroy(error);
  }

  streamWrote(): void {
    this.wroteSinceTick = true;
    this.traffic.writes++;
  }
}

/** setImmediate's callback, with the writer as its argument (no closure per connection) */
function flushWriter(writer: FrameWriter): void {
  writer.flush();
}
