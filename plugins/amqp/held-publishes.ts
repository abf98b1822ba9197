import type { Message } from '../../src/core/message.js';
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
  #held: Held[] = [];
  #deadline: NodeJS.Timeout | null = null;

  get size(): number {
    return this.#held.length;
  }

  /** @param onDeadline called if the alarm lasts longer than `deadlineMs` (0: never) */
  hold(channel: AmqpChannel, message: Message, mandatory: boolean, seq: number, deadlineMs: number, onDeadline: () => void): void {
    this.#held.push({ channel, message, mandatory, seq });
    if (this.#deadline === null && deadlineMs > 0) {
      this.#deadline = setTimeout(() => {
        this.#deadline = null;
        onDeadline();
      }, deadlineMs);
      this.#deadline.unref();
    }
  }

  /** The alarm cleared: publish everything held, in arrival order. */
  release(): void {
    this.#clearDeadline();
    const held = this.#held;
    this.#held = [];
    for (const h of held) h.channel.publishNow(h.message, h.mandatory, h.seq);
  }

  /**
   * The deadline passed: nack what was published on confirm channels.
   * @returns whether anything was held without confirms (the caller closes the connection)
   */
  failConfirmed(): boolean {
    const held = this.#held;
    this.#held = [];
    let unconfirmed = false;
    for (const h of held) {
      if (h.seq >= 0) h.channel.confirmed(h.seq, false);
      else unconfirmed = true;
    }
    return unconfirmed;
  }

  drop(): void {
    this.#clearDeadline();
    this.#held = [];
  }

  #clearDeadline(): void {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
  }
}
