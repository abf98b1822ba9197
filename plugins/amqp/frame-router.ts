/**
 * Where each frame of one AMQP connection goes, by channel and connection state: channel 0 to
 * the handshake/connection handlers (handlers/connection.ts), other channels to their
 * `AmqpChannel` (opened here on channel.open), and what a frame that does not belong in the
 * current state costs (AMQP 0-9-1 §4.2: channel or connection errors). The socket, writes and
 * how the connection ends stay in connection.ts.
 *
 * While a reply waits for the cluster's replicas (definition-replies.ts: a declare-ok is sent
 * only once the definition is on every in-sync node) the router keeps the frames that follow,
 * in order, and reading stops: the connection acts as if the method were still running, so
 * no later reply on any channel can overtake it. `resume` hands them on.
 */
import type { AmqpChannel } from './channel.js';
import type { ChannelSlots } from './channel-slots.js';
import type { FrameSink } from './codec/frame-reader.js';
import { M, decodeMethod, encodeMethodFrame, methodIdOf, type AmqpMethod } from './codec/methods.js';
import type { AmqpConnection } from './connection.js';
import { channelError, unexpectedFrame } from './errors.js';
import { handleConnectionMethod } from './handlers/connection.js';

/** a frame kept while a reply waits: its type (1 method, 2 header, 3 body), channel and a copy of its payload */
interface KeptFrame {
  type: 1 | 2 | 3;
  channel: number;
  payload: Buffer;
}

export class FrameRouter implements FrameSink {
  readonly #conn: AmqpConnection;
  readonly #channels: ChannelSlots;
  /** frames read while a reply waits for the replicas, made by `pause`; null: route at once */
  #kept: KeptFrame[] | null = null;

  constructor(conn: AmqpConnection, channels: ChannelSlots) {
    this.#conn = conn;
    this.#channels = channels;
  }

  /** whether frames are kept (and reading stopped) until `resume` */
  get keeping(): boolean {
    return this.#kept !== null;
  }

  /** Keep every frame from now on, and stop reading, until `resume`. */
  pause(): void {
    if (this.#kept !== null) return;
    this.#kept = [];
    this.#conn.setReading(false);
  }

  /** Route the kept frames in order (one of them may pause again: the rest stays kept), then read again. */
  resume(): void {
    const kept = this.#kept;
    if (kept === null) return;
    this.#kept = null;
    for (let i = 0; i < kept.length; i++) {
      if (this.#kept !== null) {
        this.#kept = kept.slice(i);
        return;
      }
      const f = kept[i]!;
      if (f.type === 1) this.onMethodFrame(f.channel, f.payload);
      else if (f.type === 2) this.onHeaderFrame(f.channel, f.payload);
      else this.onBodyFrame(f.channel, f.payload);
    }
    if (this.#kept === null && !this.#conn.gate.paused) this.#conn.setReading(true);
  }

  #keep(type: 1 | 2 | 3, channel: number, payload: Buffer): void {
    // a copy: the payload may be a view of a read buffer
    this.#kept!.push({ type, channel, payload: Buffer.from(payload) });
  }

  onMethodFrame(channel: number, payload: Buffer): void {
    if (this.#kept !== null) return this.#keep(1, channel, payload);
    const conn = this.#conn;
    if (conn.state === 'closing' || conn.state === 'closed') {
      this.#whileClosing(channel, payload);
      return;
    }
    let m: AmqpMethod;
    try {
      m = decodeMethod(payload);
    } catch (e) {
      conn.fail(e, methodIdOf(payload));
      return;
    }
    if (channel === 0) {
      try {
        handleConnectionMethod(conn, m);
      } catch (e) {
        conn.fail(e, m.id);
      }
      return;
    }
    if (conn.state !== 'running') {
      conn.fail(channelError(`unexpected method on channel ${channel} in connection state ${conn.state}`), m.id);
      return;
    }
    const ch = this.#channels.get(channel);
    if (ch === undefined) {
      if (m.id === M.channelOpen) this.#openChannel(channel);
      else conn.fail(channelError("expected 'channel.open'"), m.id);
      return;
    }
    if (m.id === M.channelOpen && ch.state === 'open') {
      conn.fail(channelError("second 'channel.open' seen"), m.id);
      return;
    }
    ch.onMethod(m);
  }

  onHeaderFrame(channel: number, payload: Buffer): void {
    if (this.#kept !== null) return this.#keep(2, channel, payload);
    const ch = this.#contentChannel(channel);
    if (ch !== undefined) ch.onHeader(payload);
  }

  onBodyFrame(channel: number, payload: Buffer): void {
    if (this.#kept !== null) return this.#keep(3, channel, payload);
    const ch = this.#contentChannel(channel);
    if (ch !== undefined) ch.onBody(payload);
  }

  bodyTarget(channel: number, size: number): Buffer | null {
    return this.#conn.state === 'running' && this.#kept === null ? (this.#channels.get(channel)?.content.bodyTarget(size) ?? null) : null;
  }

  bodyFollows(channel: number): boolean {
    return this.#channels.get(channel)?.content.bodyFollowsTarget ?? false;
  }

  onHeartbeatFrame(channel: number): void {
    // AMQP 0-9-1 §4.2.7: heartbeats belong to channel 0 (RabbitMQ: 505)
    const state = this.#conn.state;
    if (channel !== 0 && state !== 'closing' && state !== 'closed') {
      this.#conn.fail(unexpectedFrame(`heartbeat frame on channel ${channel}`), 0);
    }
  }

  /** The channel a content frame is for, or undefined after failing the connection. */
  #contentChannel(channel: number): AmqpChannel | undefined {
    const conn = this.#conn;
    if (conn.state === 'closing' || conn.state === 'closed') return undefined;
    if (channel === 0 || conn.state !== 'running') {
      conn.fail(unexpectedFrame(`content frame on channel ${channel} in connection state ${conn.state}`), 0);
      return undefined;
    }
    const ch = this.#channels.get(channel);
    if (ch === undefined) conn.fail(channelError("expected 'channel.open'"), 0);
    return ch;
  }

  /** After we sent connection.close only close and close-ok count (AMQP 0-9-1 connection.close). */
  #whileClosing(channel: number, payload: Buffer): void {
    if (channel !== 0 || this.#conn.state === 'closed') return;
    const id = methodIdOf(payload);
    if (id === M.connectionClose) this.#conn.writer.write(encodeMethodFrame(0, { id: M.connectionCloseOk }));
    if (id === M.connectionClose || id === M.connectionCloseOk) this.#conn.endSocket();
  }

  #openChannel(channel: number): void {
    try {
      this.#channels.open(this.#conn, channel, this.#conn.coreConnection!);
    } catch (e) {
      this.#conn.fail(e, M.channelOpen);
    }
  }
}
