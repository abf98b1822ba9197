/**
 * The byte pipe under a STOMP connection: a TCP socket or a WebSocket. Both batch what is
 * written in one event-loop turn, report backpressure, and end by flushing first.
 *
 * A byte stream (TCP, TLS, an in-memory pair): frames are written into a corked stream and
 * uncorked once per turn (one writev).
 * WebSocket: STOMP over WebSocket carries one frame per message; a frame whose body is
 * valid UTF-8 goes as a text message (what browser clients and RabbitMQ's Web-STOMP
 * expect), any other as a binary one so that no byte is lost.
 */
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { BodyPump, listenTo, SocketTraffic, type Peer, type PumpOwner, type StreamListener } from '../../src/frontend/index.js';
import type { LargeBody } from '../../src/core/index.js';

export interface TransportEvents {
  onData(chunk: Buffer): void;
  /** backpressure: false when the peer reads slower than we write, true again when it caught up */
  onWritable(writable: boolean): void;
  onClose(): void;
}

export interface Transport {
  readonly kind: 'tcp' | 'ws';
  readonly peerHost: string;
  readonly peerPort: number;
  /** bytes, reads and writes on the socket under it, for management */
  readonly traffic: SocketTraffic;
  /**
   * `head` is the frame up to and including its blank line; body and terminator follow. A
   * body kept in the journal (`LargeBody`) is streamed from it; frames sent meanwhile follow it.
   */
  sendFrame(head: string, body: Buffer | LargeBody | null): void;
  /** an EOL heart-beat */
  sendHeartbeat(): void;
  /** flush what was written, then close */
  end(): void;
  /** close now, dropping unwritten bytes */
  destroy(): void;
  /** stop reading from the peer (a resource alarm holds a publisher), and start again */
  pause(): void;
  resume(): void;
  /** whether reading is stopped now (by `pause`) */
  readonly paused: boolean;
}

/** Bytes buffered for the peer beyond which deliveries pause until it catches up. */
const HIGH_WATER = 256 * 1024;
/** A frame whose body is smaller than this is copied into one buffer with its head. */
const JOIN_BELOW = 16 * 1024;
/** How long an ended connection may take to flush before it is cut. */
const END_GRACE_MS = 5000;

const EOL = Buffer.from('\n');

export class StreamTransport implements Transport, StreamListener, PumpOwner {
  readonly kind = 'tcp';
  readonly peerHost: string;
  readonly peerPort: number;
  readonly traffic: SocketTraffic;
  readonly #socket: Duplex;
  readonly #events: TransportEvents;
  readonly #terminator: Buffer;
  #corked = false;
  #writable = true;
  #ended = false;
  /** a body streaming from the journal, and the frames sent meanwhile (they follow it) */
  #pump: BodyPump | null = null;
  #held: [string, Buffer | LargeBody | null][] = [];

  constructor(socket: Duplex, peer: Peer, events: TransportEvents, terminator: Buffer) {
    this.#socket = socket;
    this.#events = events;
    this.#terminator = terminator;
    this.peerHost = peer.host;
    this.peerPort = peer.port;
    this.traffic = new SocketTraffic(peer.socket);
    listenTo(socket, this);
  }

  streamData(chunk: Buffer): void {
    this.traffic.reads++;
    this.#events.onData(chunk);
  }

  streamDrained(): void {
    if (this.#pump !== null) return this.#pump.drained();
    if (this.#writable) return;
    this.#writable = true;
    this.#events.onWritable(true);
  }

  /** 'close' follows; a reset peer is not the broker's problem */
  streamError(): void {}

  streamClosed(): void {
    this.#events.onClose();
  }

  sendFrame(head: string, body: Buffer | LargeBody | null): void {
    const socket = this.#socket;
    if (this.#ended || socket.destroyed) return;
    if (this.#pump !== null) return void this.#held.push([head, body]);
    this.#cork();
    if (body !== null && !Buffer.isBuffer(body)) {
      // the body goes out from the journal a piece at a time; deliveries wait for it
      socket.write(head);
      this.#pump = new BodyPump(body, socket, this);
      if (this.#writable) {
        this.#writable = false;
        this.#events.onWritable(false);
      }
      this.#pump.start();
      return;
    }
    const end = this.#terminator;
    if (body === null || body.length === 0) {
      socket.write(head + (end.length === 2 ? '\0\n' : '\0'));
    } else if (body.length < JOIN_BELOW) {
      const headLength = Buffer.byteLength(head);
      const buf = Buffer.allocUnsafe(headLength + body.length + end.length);
      buf.write(head, 0, 'utf8');
      body.copy(buf, headLength);
      end.copy(buf, headLength + body.length);
      socket.write(buf);
    } else {
      socket.write(head);
      socket.write(body);
      socket.write(end);
    }
    this.#checkPressure();
  }

  sendHeartbeat(): void {
    // while a body streams, its bytes are what the peer sees
    if (this.#ended || this.#socket.destroyed || this.#pump !== null) return;
    this.#cork();
    this.#socket.write(EOL);
  }

  pumpDone(): void {
    this.#pump = null;
    this.#socket.write(this.#terminator);
    const held = this.#held;
    this.#held = [];
    for (let i = 0; i < held.length; i++) {
      if (this.#pump !== null) {
        this.#held.push(...held.slice(i)); // another streamed body started: the rest follows it
        return;
      }
      this.sendFrame(held[i][0], held[i][1]);
    }
    if (this.#pump === null && this.#socket.writableLength <= HIGH_WATER) this.streamDrained();
  }

  /** Half a frame is on the wire and the rest cannot be read: nothing valid can follow it. */
  pumpFailed(error: Error): void {
    this.#pump = null;
    this.#socket.destroy(error);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const socket = this.#socket;
    if (this.#corked) {
      this.#corked = false;
      socket.uncork();
    }
    socket.end();
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.#ended = true;
    this.#socket.destroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  get paused(): boolean {
    return this.#socket.isPaused();
  }

  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.traffic.writes++;
    this.#socket.cork();
    process.nextTick(StreamTransport.#uncork, this);
  }

  /** once per turn in which something was written (static: no closure per connection) */
  static #uncork(t: StreamTransport): void {
    if (!t.#corked) return;
    t.#corked = false;
    t.#socket.uncork();
  }

  #checkPressure(): void {
    // `drain` follows once the buffer empties: write() reported false long before HIGH_WATER
    if (this.#writable && this.#socket.writableLength > HIGH_WATER) {
      this.#writable = false;
      this.#events.onWritable(false);
    }
  }
}

export class WsTransport implements Transport {
  readonly kind = 'ws';
  readonly peerHost: string;
  readonly peerPort: number;
  readonly traffic: SocketTraffic;
  readonly #ws: WebSocket;
  readonly #events: TransportEvents;
  readonly #terminator: Buffer;
  #writable = true;
  #ended = false;
  /** messages handed to ws and not yet written to its socket */
  #inFlight = 0;
  /** frames sent while a body kept in the journal is read for its frame (`#readWhole`) */
  #reading: [string, Buffer | LargeBody | null][] | null = null;

  /** `peer.socket`: the HTTP connection the WebSocket was upgraded from */
  constructor(ws: WebSocket, peer: Peer, events: TransportEvents, terminator: Buffer) {
    this.#ws = ws;
    this.#events = events;
    this.#terminator = terminator;
    this.peerHost = peer.host;
    this.peerPort = peer.port;
    this.traffic = new SocketTraffic(peer.socket);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => { this.traffic.reads++; events.onData(toBuffer(data)); });
    ws.on('error', () => {});
    ws.on('close', () => events.onClose());
  }

  sendFrame(head: string, body: Buffer | LargeBody | null): void {
    if (this.#ended || this.#ws.readyState !== 1) return;
    if (this.#reading !== null) return void this.#reading.push([head, body]);
    if (body !== null && !Buffer.isBuffer(body)) return this.#readWhole(head, body);
    const headBuf = Buffer.from(head, 'utf8');
    const end = this.#terminator;
    const frame = body === null || body.length === 0 ? Buffer.concat([headBuf, end]) : Buffer.concat([headBuf, body, end]);
    const binary = body !== null && body.length > 0 && !isUtf8(body);
    this.#send(frame, binary);
  }

  sendHeartbeat(): void {
    if (this.#ended || this.#ws.readyState !== 1) return;
    this.#send(EOL, false);
  }

  /**
   * STOMP over WebSocket carries a frame as one message, which the client receives whole: a
   * body kept in the journal is read whole for it (up to max_message_size), and the frames
   * sent meanwhile follow it.
   */
  #readWhole(head: string, body: LargeBody): void {
    const held: [string, Buffer | LargeBody | null][] = [];
    this.#reading = held;
    const chunks: Buffer[] = [];
    const next = (from: number): void =>
      body.read(from, 4 * 1024 * 1024, (error, got, after) => {
        if (error !== null) return this.destroy();
        for (const c of got) chunks.push(c);
        if (after < body.partCount) return next(after);
        this.#reading = null;
        this.sendFrame(head, Buffer.concat(chunks, body.size));
        for (let i = 0; i < held.length; i++) {
          if (this.#reading !== null) return void (this.#reading as [string, Buffer | LargeBody | null][]).push(...held.slice(i));
          this.sendFrame(held[i][0], held[i][1]);
        }
      });
    next(0);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    // close after what was sent: ws queues the close frame behind the data
    this.#ws.close(1000);
    const ws = this.#ws;
    setTimeout(() => ws.terminate(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.#ended = true;
    this.#ws.terminate();
  }

  /** ws stops reading its socket; messages it had already read may still come (the connection holds them) */
  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  get paused(): boolean {
    return this.#ws.isPaused;
  }

  #send(data: Buffer, binary: boolean): void {
    this.#inFlight++;
    this.traffic.writes++;
    this.#ws.send(data, { binary }, this.#sent);
    if (this.#writable && this.#ws.bufferedAmount > HIGH_WATER) {
      this.#writable = false;
      this.#events.onWritable(false);
    }
  }

  readonly #sent = (): void => {
    this.#inFlight--;
    if (!this.#writable && (this.#inFlight === 0 || this.#ws.bufferedAmount < HIGH_WATER / 4)) {
      this.#writable = true;
      this.#events.onWritable(true);
    }
  };
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
