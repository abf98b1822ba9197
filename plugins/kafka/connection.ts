/**
 * One Kafka client connection: size-prefixed frames in (kafka.apache.org/protocol "Common
 * Request and Response Structure"), handed one by one to the handler of their API key, and
 * answers out in the order of the requests, as Kafka guarantees, even when an earlier one
 * (a produce waiting for its fdatasync, a long-polling fetch, a join waiting for the group)
 * is answered after a later one was handled. A malformed frame, an oversized one or an
 * unknown API closes the connection (Kafka's broker does the same); nothing reaches the core
 * half-decoded.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CoreConnection, Session, SessionHandler, ProtocolCore, Message } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import type { ConnectionRegistry, FrontendConnection, Peer } from '../../src/frontend/index.js';
import { ApiKey, SUPPORTED } from './codec/api-keys.js';
import { ErrorCode } from './codec/errors.js';
import { finishFrame, readRequestHeader, startResponse, type RequestHeader } from './codec/header.js';
import { KafkaDecodeError, Reader } from './codec/reader.js';
import type { Writer } from './codec/writer.js';
import { encodeApiVersions } from './codec/messages/api-versions.js';
import { HANDLERS } from './handlers/index.js';
import type { KafkaBroker } from './broker.js';

/** Requests handled but not yet answered before reading pauses (a client pipelining without bound). */
const MAX_IN_FLIGHT = 1024;

export class KafkaConnection implements SessionHandler, FrontendConnection {
  readonly broker: KafkaBroker;
  readonly socket: Duplex;
  readonly peerHost: string;
  readonly peerPort: number;
  /** the local address the client reached: advertised back in Metadata unless configured */
  readonly localHost: string;
  readonly localPort: number;
  clientId = '';
  /** the authenticated user (SASL), or null until then */
  user: string | null = null;
  /** a SASL mechanism chosen by SaslHandshake and not yet used */
  saslMechanism: string | null = null;
  #core: CoreConnection | null = null;
  #session: Session | null = null;
  // frame assembly
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  // answers in request order: slot n holds request n's answer once ready
  #nextSlot = 0;
  #flushSlot = 0;
  readonly #answers = new Map<number, Buffer[] | null>();
  #closed = false;
  #finished = false;
  /** a produce waits for a resource alarm to clear: nothing more is read meanwhile (requests stay in order) */
  #holding = false;
  /** produce confirms: token → its waiter (the last record of each partition's batches carries one) */
  readonly confirms = new Map<number, (ok: boolean, error: Error | null) => void>();
  #nextToken = 1;
  readonly #cleanups: (() => void)[] = [];
  readonly #registry: ConnectionRegistry<KafkaConnection>;

  /** @param registry told when the connection has ended (the listener set) */
  constructor(broker: KafkaBroker, socket: Duplex, peer: Peer, registry: ConnectionRegistry<KafkaConnection>) {
    this.broker = broker;
    this.socket = socket;
    this.#registry = registry;
    this.peerHost = peer.host;
    this.peerPort = peer.port;
    // a stream that is no socket (in memory) was reached at no address: loopback
    this.localHost = (socket as Partial<Socket>).localAddress ?? '127.0.0.1';
    this.localPort = (socket as Partial<Socket>).localPort ?? 0;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#maybeResume());
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => this.#onClose());
  }

  get core(): ProtocolCore {
    return this.broker.core;
  }
  get log(): Logger {
    return this.broker.log;
  }
  get closed(): boolean {
    return this.#closed;
  }

  // ---- the core side ------------------------------------------------------------------------

  /** The core connection, opened at first use as the authenticated (or default) user. */
  coreConnection(): CoreConnection {
    if (this.#core !== null) return this.#core;
    const user = this.user ?? this.broker.settings.defaultUser;
    this.#core = this.core.connect({
      protocol: 'kafka',
      vhost: this.broker.settings.vhost,
      user,
      peerHost: this.peerHost,
      peerPort: this.peerPort,
      name: this.clientId !== '' ? this.clientId : `${this.peerHost}:${this.peerPort}`,
    });
    this.#core.onServerClose = () => this.close();
    return this.#core;
  }

  /** The session produce and admin requests use. */
  session(): Session {
    if (this.#session === null) this.#session = this.coreConnection().openSession(this);
    return this.#session;
  }

  /** A confirm token whose outcome `done` is told (with the core's reason when refused). */
  confirmToken(done: (ok: boolean, error: Error | null) => void): number {
    const t = this.#nextToken++;
    this.confirms.set(t, done);
    return t;
  }

  /** Run `fn` when the connection closes (readers, group members). */
  onClose(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  deliver(_tag: string, _deliveryTag: number, _redelivered: boolean, _m: Message): void {}
  consumerCancelled(_tag: string): void {}
  returned(_m: Message, _code: number, _text: string): void {}
  confirmed(token: number, ack: boolean, error: Error | null): void {
    const done = this.confirms.get(token);
    if (done === undefined) return;
    this.confirms.delete(token);
    done(ack, error);
  }

  // ---- frames in ----------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    this.#drainFrames();
  }

  #drainFrames(): void {
    while (!this.#closed && this.#pendingBytes >= 4) {
      if (this.#nextSlot - this.#flushSlot >= MAX_IN_FLIGHT) {
        this.socket.pause();
        return;
      }
      const size = this.#frameSize();
      if (size < 8 || size > this.broker.settings.maxRequestSize) {
        this.log.warn('Kafka: frame size out of bounds, closing', { size, peer: `${this.peerHost}:${this.peerPort}` });
        return this.close();
      }
      if (this.#pendingBytes < 4 + size) return;
      // joined once the whole frame is here (joining at every chunk of a large frame copied it over and over)
      const all = this.#pending.length === 1 ? this.#pending[0]! : this.#joined();
      // publishers are held while a memory or disk alarm is on, as AMQP, MQTT and STOMP ones are
      if (all.readInt16BE(4) === ApiKey.Produce && this.core.alarms.blocked) {
        this.#holding = true;
        this.socket.pause();
        return;
      }
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.#pending = rest.length > 0 ? [rest] : [];
      this.#pendingBytes = rest.length;
      this.#handleFrame(frame);
    }
  }

  /** The size prefix of the next frame (pending holds at least 4 bytes), read across chunks without joining them. */
  #frameSize(): number {
    const first = this.#pending[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    let v = 0;
    let n = 0;
    for (const c of this.#pending) {
      for (let i = 0; i < c.length && n < 4; i++, n++) v = v * 256 + c[i]!;
      if (n === 4) break;
    }
    return v | 0;
  }

  #joined(): Buffer {
    const b = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [b];
    return b;
  }

  #handleFrame(frame: Buffer): void {
    const r = new Reader(frame);
    let h: RequestHeader;
    try {
      h = readRequestHeader(r);
    } catch {
      this.log.warn('Kafka: malformed request header, closing', { peer: `${this.peerHost}:${this.peerPort}` });
      return this.close();
    }
    if (h.clientId !== null) this.clientId = h.clientId;
    const range = SUPPORTED.get(h.apiKey);
    if (range === undefined || h.apiVersion < range.min || h.apiVersion > range.max) {
      if (h.apiKey === ApiKey.ApiVersions) return this.#unsupportedApiVersions(h);
      this.log.warn('Kafka: unsupported API or version, closing', { apiKey: h.apiKey, version: h.apiVersion, client: this.clientId });
      return this.close();
    }
    if (!this.broker.authenticated(this) && h.apiKey !== ApiKey.ApiVersions && h.apiKey !== ApiKey.SaslHandshake && h.apiKey !== ApiKey.SaslAuthenticate) {
      this.log.warn('Kafka: request before SASL authentication, closing', { apiKey: h.apiKey, client: this.clientId });
      return this.close();
    }
    const slot = h.apiKey === ApiKey.Produce && produceWithoutAcks(r) ? -1 : this.#nextSlot++;
    try {
      HANDLERS[h.apiKey]!(this, h, r, slot);
    } catch (e) {
      if (e instanceof KafkaDecodeError) {
        this.log.warn('Kafka: malformed request, closing', { apiKey: h.apiKey, version: h.apiVersion, error: e.message, client: this.clientId });
      } else {
        this.log.error('Kafka: request failed, closing', { apiKey: h.apiKey, error: String((e as Error)?.stack ?? e) });
      }
      this.close();
    }
  }

  /** KIP-511: an ApiVersions version we do not know is answered in v0 with error 35 and our ranges. */
  #unsupportedApiVersions(h: RequestHeader): void {
    const { w, sizeAt } = startResponse({ ...h, flexible: false });
    encodeApiVersions(w, 0, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: supportedList() });
    this.#answers.set(this.#nextSlot++, finishFrame(w, sizeAt));
    this.#flush();
  }

  // ---- answers out -----------------------------------------------------------------------------------

  /** Answer the request in `slot` (-1: a request that gets no answer) with what `encode` writes. */
  answer(slot: number, h: RequestHeader, encode: (w: Writer) => void, sizeHint = 256): void {
    if (slot < 0 || this.#closed) return;
    const { w, sizeAt } = startResponse(h, sizeHint);
    encode(w);
    this.#answers.set(slot, finishFrame(w, sizeAt));
    if (slot === this.#flushSlot) this.#flush();
  }

  #flush(): void {
    const socket = this.socket;
    let corked = false;
    for (;;) {
      const chunks = this.#answers.get(this.#flushSlot);
      if (chunks === undefined) break;
      this.#answers.delete(this.#flushSlot++);
      if (chunks === null || socket.destroyed) continue;
      if (!corked) {
        socket.cork();
        corked = true;
      }
      for (const c of chunks) socket.write(c);
    }
    if (corked) process.nextTick(() => socket.uncork());
    this.#maybeResume();
  }

  /** The alarms cleared: go on with the held produce and what followed it. */
  releaseHeld(): void {
    if (!this.#holding || this.#closed) return;
    this.#holding = false;
    this.#maybeResume();
    this.#drainFrames();
  }

  #maybeResume(): void {
    if (this.#closed || this.#holding || !this.socket.isPaused() || this.socket.writableNeedDrain) return;
    if (this.#nextSlot - this.#flushSlot >= MAX_IN_FLIGHT) return;
    this.socket.resume();
    this.#drainFrames();
  }

  /** A resource alarm cleared: a produce held by it goes on. */
  alarmChanged(reason: string | null): void {
    if (reason === null) this.releaseHeld();
  }

  /** The plugin stops: Kafka has no goodbye, the connection just closes. */
  shutdown(): void {
    this.close();
  }

  destroy(): void {
    this.socket.destroy();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.end();
    (this.socket as Partial<Socket>).destroySoon?.();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closed = true;
    const cleanups = this.#cleanups.splice(0);
    for (const fn of cleanups) {
      try {
        fn();
      } catch (e) {
        this.log.warn('Kafka: cleanup failed', { error: String(e) });
      }
    }
    for (const done of this.confirms.values()) done(false, null);
    this.confirms.clear();
    const core = this.#core;
    this.#core = null;
    this.#session = null;
    if (core !== null) core.close();
    this.#registry.closed(this);
  }
}

export function supportedList(): { apiKey: number; min: number; max: number }[] {
  return [...SUPPORTED].map(([apiKey, r]) => ({ apiKey, min: r.min, max: r.max }));
}

/** acks = 0: the producer reads no answer (Produce v3+: transactional id, then acks). */
function produceWithoutAcks(r: Reader): boolean {
  const probe = new Reader(r.buf, r.pos, r.end);
  try {
    probe.nullableString();
    return probe.int16() === 0;
  } catch {
    return false;
  }
}
