/**
 * A raw AMQP client for frame-level tests: connect (over TCP, or over any byte stream such as
 * an in-memory pair given to `Broker.accept`), write arbitrary bytes, read the frames the
 * server answers with, and wait for the server to close the stream.
 * Uses only node:net and the test-side frame helpers (never the broker's codec).
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ArgWriter,
  FRAME_HEARTBEAT,
  type CloseFields,
  type Frame,
  FrameReader,
  isMethod,
  Method,
  type MethodId,
  methodFrame,
  methodOf,
  PROTOCOL_HEADER,
  readClose,
  readTune,
  type TuneFields,
} from './amqp-frames.js';

export interface HandshakeOptions {
  user?: string;
  password?: string;
  vhost?: string;
  /** Values sent in tune-ok; default: accept the server's proposal (heartbeat 0 = off). */
  channelMax?: number;
  frameMax?: number;
  heartbeat?: number;
}

export interface ClosedResult {
  /** Every byte the server sent, from the first. */
  bytes: Buffer;
  /** The frames among them (empty if the server never spoke AMQP frames). */
  frames: Frame[];
  /** The connection.close the server sent, if any. */
  connectionClose: CloseFields | null;
}

export class RawAmqpClient {
  readonly socket: Duplex;
  readonly closed: Promise<void>;
  #isClosed = false;
  readonly #received: Buffer[] = [];
  readonly #reader = new FrameReader();
  readonly #frames: Frame[] = [];
  #unreadFrom = 0;
  #frameError: Error | null = null;
  #wake: (() => void) | null = null;

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received.push(chunk);
      if (this.#frameError === null) {
        try {
          this.#frames.push(...this.#reader.push(chunk));
        } catch (e) {
          this.#frameError = e as Error;
        }
      }
      this.#notify();
    });
    // A reset by the server is one way of closing; the tests look at what came before it.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.#isClosed = true;
        this.#notify();
        resolve();
      }),
    );
  }

  static open(host: string, port: number): Promise<RawAmqpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawAmqpClient(socket));
      });
    });
  }

  /** A client on an already connected byte stream (the other end of an in-memory pair). */
  static over(stream: Duplex): RawAmqpClient {
    return new RawAmqpClient(stream);
  }

  /** Connects and completes the opening handshake (AMQP 0-9-1 §2.2.4) up to open-ok. */
  static async openHandshaken(host: string, port: number, options: HandshakeOptions = {}): Promise<RawAmqpClient> {
    const client = await RawAmqpClient.open(host, port);
    try {
      await client.handshake(options);
      await client.expectMethod(Method.connectionOpenOk);
    } catch (e) {
      client.destroy();
      throw e;
    }
    return client;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /**
   * Sends the protocol header, start-ok (PLAIN), tune-ok and connection.open; returns the
   * server's tune proposal. Does not wait for open-ok, so callers can observe a refusal.
   */
  async handshake(options: HandshakeOptions = {}): Promise<TuneFields> {
    this.send(PROTOCOL_HEADER);
    await this.expectMethod(Method.connectionStart);
    const user = options.user ?? 'guest';
    const password = options.password ?? 'guest';
    this.send(
      methodFrame(
        0,
        Method.connectionStartOk,
        new ArgWriter()
          .table({ product: 'warren raw test client', capabilities: { authentication_failure_close: true } })
          .shortstr('PLAIN')
          .longstr(`\0${user}\0${password}`)
          .shortstr('en_US'),
      ),
    );
    const tune = readTune(await this.expectMethod(Method.connectionTune));
    this.send(
      methodFrame(
        0,
        Method.connectionTuneOk,
        new ArgWriter()
          .short(options.channelMax ?? tune.channelMax)
          .long(options.frameMax ?? tune.frameMax)
          .short(options.heartbeat ?? 0),
      ),
    );
    this.send(methodFrame(0, Method.connectionOpen, new ArgWriter().shortstr(options.vhost ?? '/').shortstr('').bit(false)));
    return tune;
  }

  async openChannel(channel: number): Promise<void> {
    this.send(methodFrame(channel, Method.channelOpen, new ArgWriter().shortstr('')));
    await this.expectMethod(Method.channelOpenOk);
  }

  /** The next frame that is not a heartbeat; rejects on close or timeout. */
  async nextFrame(timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#unreadFrom < this.#frames.length) {
        const f = this.#frames[this.#unreadFrom++]!;
        if (f.type !== FRAME_HEARTBEAT) return f;
      }
      if (this.#frameError) throw this.#frameError;
      if (this.#isClosed) throw new Error(`socket closed while waiting for a frame; received ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms; received ${this.describe()}`);
      await this.#sleepUntilData(left);
    }
  }

  async expectMethod(id: MethodId, timeoutMs = 3000): Promise<Frame> {
    const f = await this.nextFrame(timeoutMs);
    if (!isMethod(f, id)) {
      const got = methodOf(f);
      const detail = got && isMethod(f, Method.connectionClose) ? ` ${JSON.stringify(readClose(f))}` : '';
      throw new Error(`expected method ${id.join('/')}, got frame type ${f.type} method ${got?.join('/')}${detail}`);
    }
    return f;
  }

  /**
   * Reads until the server closes the socket, answering a connection.close with close-ok
   * as a well-behaved client would (AMQP 0-9-1 §4.2.4). Rejects if the socket is still open
   * after `timeoutMs`.
   */
  async readUntilClose(timeoutMs = 5000): Promise<ClosedResult> {
    const deadline = Date.now() + timeoutMs;
    let connectionClose: CloseFields | null = null;
    let seen = 0;
    for (;;) {
      for (; seen < this.#frames.length; seen++) {
        const f = this.#frames[seen]!;
        if (connectionClose === null && isMethod(f, Method.connectionClose)) {
          connectionClose = readClose(f);
          if (!this.#isClosed) this.send(methodFrame(0, Method.connectionCloseOk));
        }
      }
      if (this.#isClosed) {
        return { bytes: Buffer.concat(this.#received), frames: [...this.#frames], connectionClose };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server did not close the socket within ${timeoutMs} ms; received ${this.describe()}`);
      await this.#sleepUntilData(left);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** A short account of what arrived, for assertion messages. */
  describe(): string {
    const frames = this.#frames.map((f) => {
      const m = methodOf(f);
      if (m && isMethod(f, Method.connectionClose)) return `connection.close${JSON.stringify(readClose(f))}`;
      if (m && isMethod(f, Method.channelClose)) return `channel.close${JSON.stringify(readClose(f))}`;
      return m ? `method ${m.join('/')} ch${f.channel}` : `frame type ${f.type} ch${f.channel}`;
    });
    return `${Buffer.concat(this.#received).length} bytes [${frames.join(', ')}]${this.#isClosed ? ' then close' : ''}`;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #sleepUntilData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
