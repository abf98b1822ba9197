/** A raw Kafka protocol client for tests of bad input and exact answers: frames built with the plugin's codec. */
import { connect, type Socket } from 'node:net';
import { Writer } from '../../plugins/kafka/codec/writer.js';
import { Reader } from '../../plugins/kafka/codec/reader.js';

export class RawKafka {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #waiters: ((frame: Buffer | null) => void)[] = [];
  #frames: Buffer[] = [];
  closed = false;
  #correlation = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readInt32BE(0)) {
        const n = this.#buf.readInt32BE(0);
        const f = this.#buf.subarray(4, 4 + n);
        this.#buf = this.#buf.subarray(4 + n);
        const w = this.#waiters.shift();
        if (w) w(f);
        else this.#frames.push(f);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w(null);
    });
  }

  static open(port: number): Promise<RawKafka> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawKafka(s)));
      s.once('error', reject);
    });
  }

  /**
   * A request frame: header v1 (key, version, correlation id, client id) and the body `body`
   * writes; `flexible`: header v2 (v1 + empty tagged fields), for a flexible version.
   */
  frame(apiKey: number, version: number, body: (w: Writer) => void, flexible = false): Buffer {
    const w = new Writer();
    const at = w.reserveInt32();
    w.int16(apiKey).int16(version).int32(this.#correlation++).string('raw-test');
    if (flexible) w.emptyTaggedFields();
    body(w);
    w.patchInt32(at, w.length - 4);
    return w.toBuffer();
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next answer (after its correlation id), or null when the connection closed first (or `ms` passed). */
  next(ms = 3000): Promise<Reader | null> {
    const f = this.#frames.shift();
    if (f) return Promise.resolve(reader(f));
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      this.#waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame === null ? null : reader(frame));
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function reader(frame: Buffer): Reader {
  const r = new Reader(frame);
  r.int32(); // correlation id
  return r;
}
