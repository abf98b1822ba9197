import type { Message } from '../../src/core/message.js';
import { HeldInOrder } from '../../src/util/held-in-order.js';
import type { AmqpChannel } from './channel.js';

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

export class HeldPublishes {
  readonly #held = new HeldInOrder<Held>();

  get size(): number {
    return this.#held.size;
  }

  /** @param onDeadline called if the alarm lasts longer than `deadlineMs` (0: never) */
  hold(channel: AmqpChannel, message: Message, mandatory: boolean, seq: number, deadlineMs: number, onDeadline: () => void): void {
    this.#held.hold({ channel, message, mandatory, seq }, deadlineMs, onDeadline);
  }

  /** The alarm cleared: publish everything held, in arrival order. */
  release(): void {
    for (const h of this.#held.take()) h.channel.publishNow(h.message, h.mandatory, h.seq);
  }

  /**
   * The deadline passed: nack what was published on confirm channels.
   * @returns whether anything was held without confirms (the caller closes the connection)
   */
  failConfirmed(): boolean {
    let unconfirmed = false;
    for (const h of this.#held.take()) {
      if (h.seq >= 0) h.channel.confirmed(h.seq, false);
      else unconfirmed = true;
    }
    return unconfirmed;
  }

  drop(): void {
    this.#held.take();
  }
}
