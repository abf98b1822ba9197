/**
 * The channel slots of one AMQP connection: channel number → `AmqpChannel`, the count of open
 * channels against the negotiated channel-max, and what the connection does to every channel
 * at once (coalesced confirms, backpressure, ending, asking whether a consumer awaits acks).
 */
import type { CoreConnection } from '../../src/core/index.js';
import { AmqpChannel } from './channel.js';
import type { AmqpConnection } from './connection.js';
import { M } from './codec/methods.js';
import { channelError, notAllowed } from './errors.js';

const EMPTY = Buffer.alloc(0);

export class ChannelSlots {
  readonly #slots: (AmqpChannel | undefined)[] = [];
  #count = 0;
  #confirmFlushes: AmqpChannel[] = [];

  get(id: number): AmqpChannel | undefined {
    return this.#slots[id];
  }

  /**
   * channel.open on a free number, answered open-ok. RabbitMQ counts open channels against
   * channel-max (530); a number beyond it is a channel error (504). Throws the error to close
   * the connection with.
   */
  open(conn: AmqpConnection, id: number, core: CoreConnection): void {
    if (this.#count >= conn.channelMax) {
      throw notAllowed(`number of channels opened (${this.#count}) has reached the negotiated channel_max (${conn.channelMax})`);
    }
    if (id > conn.channelMax) throw channelError(`channel ${id} is above the negotiated channel_max (${conn.channelMax})`);
    const ch = new AmqpChannel(conn, id, core);
    this.#slots[id] = ch;
    this.#count++;
    if (conn.writer.blocked) ch.session.setWritable(false);
    ch.send({ id: M.channelOpenOk, channelId: EMPTY });
  }

  /** The channel is closed on both sides: end its session, free its number. */
  release(ch: AmqpChannel): void {
    ch.drop();
    if (this.#slots[ch.id] === ch) {
      this.#slots[ch.id] = undefined;
      this.#count--;
    }
  }

  /** the channel's coalesced confirm goes out with the next batch (flushQueuedConfirms) */
  queueConfirmFlush(ch: AmqpChannel): void {
    this.#confirmFlushes.push(ch);
  }

  /** just before a batch is written: the confirms of the channels queued for it join it */
  flushQueuedConfirms(): void {
    if (this.#confirmFlushes.length === 0) return;
    const list = this.#confirmFlushes;
    this.#confirmFlushes = [];
    for (const ch of list) {
      ch.confirmFlushQueued = false;
      ch.flushConfirms();
    }
  }

  /** a consumer on one of the channels has deliveries out (FrameWriter.answerRead says why it matters) */
  awaitingAcks(): boolean {
    for (const ch of this.#slots) if (ch !== undefined && ch.session.unackedCount > 0) return true;
    return false;
  }

  /** the socket's buffer filled up (false) or drained (true): stop or resume deliveries */
  setWritable(writable: boolean): void {
    for (const ch of this.#slots) if (ch !== undefined && ch.state === 'open') ch.session.setWritable(writable);
  }

  /** The connection ends: pending confirms go out, every session ends without a word on the wire. */
  dropAll(): void {
    for (const ch of this.#slots) {
      if (ch !== undefined) {
        ch.flushConfirms();
        ch.drop();
      }
    }
    this.#slots.length = 0;
    this.#count = 0;
  }
}
