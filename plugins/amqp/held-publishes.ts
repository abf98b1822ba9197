import { type ProtocolCore, BrokerError, type Message } from '../../src/core/index.js';
import { HeldInOrder } from '../../src/util/index.js';
import type { AmqpChannel } from './channel.js';
import type { FrameWriter } from './frame-writer.js';

/**
 * Publishes a connection received while a resource alarm blocks publishing (RabbitMQ's
 * memory/disk alarms). The connection stops reading its socket at the first one, so the
 * client feels TCP backpressure; the held publishes go to the core, in order, when the
 * alarm clears. Beyond RabbitMQ, a publish held longer than the deadline fails explicitly:
 * basic.nack on a confirm channel, otherwise the connection is closed with a clear reason —
 * never silently dropped.
 */
interface Held {
  channel: AmqpChannel;
  message: Message;
  mandatory: boolean;
  /** publisher-confirm sequence number, or -1 without confirms */
  seq: number;
}

/** What the held publishes need of their connection. */
export interface PublishHolder {
  readonly core: ProtocolCore;
  readonly writer: FrameWriter;
  /** stop (false) or resume (true) reading the socket */
  setReading(reading: boolean): void;
  fail(error: unknown, methodId: number): void;
}

export class HeldPublishes {
  readonly #held = new HeldInOrder<Held>();
  readonly #conn: PublishHolder;
  /** reading stopped by an alarm; stays so after a deadline failed the held publishes, until the alarm clears */
  #paused = false;

  constructor(conn: PublishHolder) {
    this.#conn = conn;
  }

  get holding(): boolean {
    return this.#held.size > 0;
  }

  /** A publish arrived during an alarm: keep it and stop reading until the alarm clears. */
  hold(channel: AmqpChannel, message: Message, mandatory: boolean, seq: number): void {
    if (!this.#paused) {
      this.#paused = true;
      this.#conn.setReading(false);
    }
    this.#held.hold({ channel, message, mandatory, seq }, this.#conn.core.alarms.settings.publishDeadlineMs, () => this.#deadlinePassed());
  }

  /** The alarm cleared: publish everything held, in arrival order, and read again. */
  release(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const h of this.#held.take()) h.channel.publishNow(h.message, h.mandatory, h.seq);
    this.#conn.setReading(true);
  }

  /** The deadline passed: nack what was published on confirm channels; close the connection if anything was not. */
  #deadlinePassed(): void {
    let unconfirmed = false;
    for (const h of this.#held.take()) {
      if (h.seq >= 0) h.channel.confirmed(h.seq, false);
      else unconfirmed = true;
    }
    if (!unconfirmed) return;
    const conn = this.#conn;
    conn.writer.flush();
    const text = `CONNECTION_FORCED - publishing blocked by a resource alarm (${conn.core.alarms.reason}) for longer than ${conn.core.alarms.settings.publishDeadlineMs} ms`;
    conn.fail(new BrokerError('CONNECTION_FORCED', text), 0);
  }

  drop(): void {
    this.#held.take();
  }
}
