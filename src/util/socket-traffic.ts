/**
 * A connection's traffic (RabbitMQ's recv_oct, send_oct, recv_cnt, send_cnt, send_pend):
 * bytes come from Node's own socket counters, reads from one 'data' listener per socket,
 * writes from the front-end's flush (`wrote()`, once per batch). Nothing per message; the
 * numbers are read when management samples.
 *
 * For a WebSocket connection the socket is the HTTP connection under it, so the bytes
 * include the WebSocket framing, as RabbitMQ's web plugins count them.
 */
import type { TransportTraffic } from '../core/api.js';

interface CountedSocket {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly writableLength: number;
  on(event: 'data', listener: () => void): unknown;
}

export class SocketTraffic implements TransportTraffic {
  readonly #socket: CountedSocket;
  reads = 0;
  writes = 0;

  constructor(socket: CountedSocket) {
    this.#socket = socket;
    socket.on('data', () => this.reads++);
  }

  /** the front-end flushed one batch of frames to the socket */
  wrote(): void {
    this.writes++;
  }

  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  get pendingBytes(): number {
    return this.#socket.writableLength;
  }
}
