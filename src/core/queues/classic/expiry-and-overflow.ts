import type { Consumer } from '../../delivery/consumer.js';
import type { Message } from '../../message.js';
import type { DeadLetterReason, QueueStats } from '../queue.js';
import type { QueueSettings } from '../queue-arguments.js';
import type { QueueEntry } from '../queue-entry.js';
import { MAX_TIMER_MS } from '../redelivery.js';
import type { MessageBuffer } from './message-buffer.js';
import type { PublisherFlow } from '../../publisher-flow.js';

/** The side of a classic queue the expiry and length rules work on. */
export interface LimitedQueue {
  readonly settings: QueueSettings;
  readonly deleted: boolean;
  readonly consumers: readonly Consumer[];
  readonly consumerCount: number;
  readonly messageCount: number;
  readonly deadLetterBacklog: number;
  readonly deadLetterBacklogBytes: number;
  readyBytes: number;
  readonly stats: QueueStats;
  /** the entry leaves for its dead-letter exchange (with `reason`), or is dropped */
  deadLetterEntry(entry: QueueEntry, reason: DeadLetterReason): void;
  /** x-expires ran out: the queue goes (the vhost deletes it) */
  expired(): void;
  /** reject-publish-dlx refused the message: it goes to the dead-letter exchange (reason maxlen) */
  refused(message: Message): void;
}

/**
 * A classic queue's time and length rules, as RabbitMQ's classic queues apply them
 * (rabbitmq.com/docs/ttl, /maxlength): message TTL (x-message-ttl, per-message expiration;
 * expired messages are dead-lettered with reason `expired`, from the head on time and deeper
 * ones when delivery reaches them), the queue's own lease (x-expires), and the length limits
 * (x-max-length, x-max-length-bytes) with their overflow behaviour: drop-head dead-letters
 * from the head (reason `maxlen`), reject-publish refuses at admission. One head-expiry timer
 * and one idle timer per queue; nothing per message.
 */
export class ExpiryAndOverflow {
  #expiryTimer: NodeJS.Timeout | null = null;
  #expiryTimerAt = 0;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly queue: LimitedQueue,
    readonly buffer: MessageBuffer,
    readonly flow: PublisherFlow,
  ) {}

  /** x-overflow reject-publish(-dlx): whether the queue takes one more message now. */
  admit(message: Message): boolean {
    const q = this.queue;
    const overflow = q.settings.overflow;
    if (overflow === 'drop-head' || !this.full(message.size)) return true;
    q.stats.dropped++;
    if (overflow === 'reject-publish-dlx') q.refused(message);
    return false;
  }

  /**
   * x-overflow reject-publish: would a message of `size` bytes take the queue over a limit?
   * (RabbitMQ rabbit_amqqueue_process: ready count + 1 > max length, ready bytes + size > max bytes)
   */
  full(size: number): boolean {
    const q = this.queue;
    const s = q.settings;
    return (
      (s.maxLength >= 0 && q.messageCount + q.deadLetterBacklog >= s.maxLength) ||
      (s.maxLengthBytes >= 0 && q.readyBytes + q.deadLetterBacklogBytes + size > s.maxLengthBytes)
    );
  }

  /** x-overflow drop-head: drop (dead-letter, reason maxlen) from the head while over a limit */
  dropHeadOverLimit(): void {
    const q = this.queue;
    const s = q.settings;
    const buffer = this.buffer;
    while (
      buffer.length > 0 &&
      ((s.maxLength >= 0 && buffer.length > s.maxLength) || (s.maxLengthBytes >= 0 && q.readyBytes > s.maxLengthBytes))
    ) {
      const entry = buffer.shift() as QueueEntry;
      q.readyBytes -= entry.message.size;
      q.stats.dropped++;
      q.deadLetterEntry(entry, 'maxlen');
    }
  }

  /** The entry's TTL ran out: it is dead-lettered (reason expired) or dropped. */
  expire(entry: QueueEntry): void {
    this.queue.stats.expired++;
    this.queue.deadLetterEntry(entry, 'expired');
  }

  /** Remove expired messages from the head (RabbitMQ expires from the head only; deeper ones are skipped at delivery). */
  expireHead(now: number): void {
    const buffer = this.buffer;
    for (let head = buffer.peek(); head && head.expiresAt !== 0 && head.expiresAt <= now; head = buffer.peek()) {
      buffer.shift();
      this.queue.readyBytes -= head.message.size;
      this.expire(head);
    }
  }

  /** Keep one timer for the head's expiry, so expired messages are dead-lettered on time. */
  scheduleExpiry(): void {
    const head = this.buffer.peek();
    if (!head || head.expiresAt === 0 || this.queue.deleted) return;
    if (this.#expiryTimer && this.#expiryTimerAt <= head.expiresAt) return;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimerAt = head.expiresAt;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = null;
      this.expireHead(Date.now());
      this.flow.check(this.queue); // held publishers may go now (publisher-flow.ts)
      this.scheduleExpiry();
    }, Math.min(Math.max(0, head.expiresAt - Date.now()), MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  /** x-expires: (re)start the idle clock — on declare, basic.get and when the last consumer goes */
  touch(): void {
    const ms = this.queue.settings.expires;
    if (ms <= 0 || this.queue.deleted || this.queue.consumers.length > 0) return;
    this.clearIdleTimer();
    this.#armIdleTimer(Date.now() + ms);
  }

  /** setTimeout waits at most ~24.8 days: longer x-expires values re-arm until the deadline. */
  #armIdleTimer(deadline: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.queue.deleted || this.queue.consumers.length > 0) return;
      if (Date.now() < deadline) this.#armIdleTimer(deadline);
      else this.queue.expired();
    }, Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS));
    this.#idleTimer.unref();
  }

  /** @returns whether no timer is left (the queue may then drop this object until it needs one again) */
  clearIdleTimer(): boolean {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    return this.#expiryTimer === null;
  }

  /** The queue's settings changed (a policy): limits take effect now, the idle clock and the expiry timer restart. */
  settingsChanged(): void {
    if (this.queue.settings.overflow === 'drop-head') this.dropHeadOverLimit();
    this.clearIdleTimer();
    this.touch();
    this.scheduleExpiry();
  }

  /** No timer may fire any more (the queue is deleted or the broker stops). */
  stop(): void {
    this.clearIdleTimer();
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
  }
}
