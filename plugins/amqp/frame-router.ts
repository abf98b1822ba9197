/**
 * Where each frame of one AMQP connection goes, by channel and connection state: channel 0 to
 * the handshake/connection handlers (handlers/connection.ts), other channels to their
 * `AmqpChannel` (opened here on channel.open), and what a frame that does not belong in the
 * current state costs (AMQP 0-9-1 §4.2: channel or connection errors). The socket, writes and
 * how the connection ends stay in connection.ts.
 */
import type { AmqpChannel } from './channel.js';
import type { ChannelSlots } from './channel-slots.js';
import type { FrameSink } from './codec/frame-reader.js';
import { M, decodeMethod, encodeMethodFrame, methodIdOf, type AmqpMethod } from './codec/methods.js';
import type { AmqpConnection } from './connection.js';
import { channelError, unexpectedFrame } from './errors.js';
import { handleConnectionMethod } from './handlers/connection.js';

export class FrameRouter implements FrameSink {
  readonly #conn: AmqpConnection;
  readonly #channels: ChannelSlots;

  constructor(conn: AmqpConnection, channels: ChannelSlots) {
    this.#conn = conn;
    this.#channels = channels;
  }

  onMethodFrame(channel: number, payload: Buffer): void {
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
    const ch = this.#contentChannel(channel);
    if (ch !== undefined) ch.onHeader(payload);
  }

  onBodyFrame(channel: number, payload: Buffer): void {
    const ch = this.#contentChannel(channel);
    if (ch !== undefined) ch.onBody(payload);
  }

  bodyTarget(channel: number, size: number): Buffer | null {
    return this.#conn.state === 'running' ? (this.#channels.get(channel)?.content.bodyTarget(size) ?? null) : null;
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
