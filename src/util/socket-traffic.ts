/**
 * A connection's traffic (RabbitMQ's recv_oct, send_oct, recv_cnt, send_cnt, send_pend):
 * bytes come from Node's own socket counters; `reads` and `writes` are counted by the
 * front-end, in the 'data' handler it has anyway (a second 'data' listener would make Node
 * copy the listener array on every chunk) and once per flushed batch. Nothing per message;
 * the numbers are read when management samples.
 *
 * For a WebSocket connection the socket is the HTTP connection under it, so the bytes
 * include the WebSocket framing, as RabbitMQ's web plugins count them.
 */
import type { TransportTraffic } from '../core/api.js';

export interface CountedSocket {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly writableLength: number;
}

export class SocketTraffic implements TransportTraffic {
  readonly #socket: CountedSocket;
  /** chunks (WebSocket: messages) read */
  reads = 0;
  /** batches written */
  writes = 0;

  constructor(socket: CountedSocket) {
    this.#socket = socket;
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
