/**
 * Write batching and socket backpressure for one connection.
 *
 * Frames produced while handling input (replies, deliveries, confirms) are queued and
 * written together once per event-loop turn (setImmediate): one cork/uncork, so the socket
 * gathers them into a single writev. When the socket's buffer is full (`write` returned
 * false), the owner is told, and told again on 'drain': it stops and resumes deliveries.
 */
import type { Socket } from 'node:net';
import { SocketTraffic } from '../../src/util/socket-traffic.js';

export interface WriterOwner {
  /** called just before a batch is written: last chance to add coalesced frames (confirms) */
  beforeFlush(): void;
  /** the socket's buffer filled up (false) or drained (true) */
  writableChanged(writable: boolean): void;
}

export class FrameWriter {
  /**
   * The frames queued this turn. Encoders append to it directly (`writeDeliver(writer.out, …)`);
   * call `scheduleFlush()` after.
   */
  out: Buffer[] = [];
  /** set on every flush; the heartbeat monitor clears it each tick */
  wroteSinceTick = false;
  /** the connection's socket traffic, for management */
  readonly traffic: SocketTraffic;
  readonly #socket: Socket;
  readonly #owner: WriterOwner;
  #scheduled = false;
  #blocked = false;
  readonly #flushBound = () => this.flush();
  readonly #drainBound = () => this.#drained();

  constructor(socket: Socket, owner: WriterOwner) {
    this.#socket = socket;
    this.#owner = owner;
    this.traffic = new SocketTraffic(socket);
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  write(frame: Buffer): void {
    this.out.push(frame);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flushBound);
  }

  /** Write everything queued now (also used before ending the socket). */
  flush(): void {
    this.#scheduled = false;
    this.#owner.beforeFlush();
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
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
    if ((!ok || socket.writableNeedDrain) && !this.#blocked) {
      this.#blocked = true;
      socket.once('drain', this.#drainBound);
      this.#owner.writableChanged(false);
    }
  }

  #drained(): void {
    this.#blocked = false;
    this.#owner.writableChanged(true);
  }
}
