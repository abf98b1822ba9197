import type { FieldTable } from '../../codec/types.js';
import type { Binding } from '../binding.js';
import type { Consumer } from '../delivery/consumer.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { PublisherFlow } from '../publisher-flow.js';
import type { DurabilityPoints } from '../durability.js';
import type { Message } from '../message.js';
import type { QueueSettings } from './queue-arguments.js';
import type { QueueEntry } from './queue-entry.js';
import type { SmallSet } from '../../util/small-collections.js';

/** Why a message left a queue for its dead-letter exchange (the `reason` of RabbitMQ's x-death). */
export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** What a queue asks of its vhost. */
export interface QueueLifecycle {
  /** auto-delete: the last consumer is gone */
  queueUnused(queue: Queue): void;
  /** x-expires: unused for that long */
  queueExpired(queue: Queue): void;
  /**
   * route a message that left the queue to its dead-letter exchange, if it has one;
   * @returns whether it is settled: dropped as configured, or taken by every queue it reached
   * (false: no such exchange, no route, or a target refused it — at-least-once keeps it).
   * `points` (cleared first) gets what the copies wrote, for a source that must keep the
   * message until they are durable (at-least-once).
   */
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason, points?: DurabilityPoints): boolean;
  /** timers shared by the vhost's queues (redelivery back-off) */
  readonly scheduler: Scheduler;
  /** holds the publishers of a queue whose memory fills faster than it drains */
  readonly flow: PublisherFlow;
}

/** Counters for operators (RabbitMQ's message_stats of a queue). */
export interface QueueStats {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
  expired: number;
  deadLettered: number;
  dropped: number;
}

/** the counters of a queue that has counted nothing yet (read only) */
export const NO_COUNTS: Readonly<QueueStats> = Object.freeze({ published: 0, delivered: 0, acked: 0, redelivered: 0, expired: 0, deadLettered: 0, dropped: 0 });

/**
 * What every queue kind offers the vhost (routing, publishing, declaring, policies), the
 * sessions and consumers (consume, get, settle) and management (counts, settings): RabbitMQ's
 * `rabbit_queue_type` behaviour, for Warren's kinds (classic/, stream/, quorum/, each
 * registered in queue-type.ts). Callers ask this interface, never which class a queue is;
 * where a kind differs (a stream's log, a quorum queue's pending dead-letters) a caller
 * asks `type` and that kind's own module.
 */
export interface Queue {
  /** a binding destination that is a queue (exchanges are the other kind) */
  readonly kind: 'queue';
  /** the registered queue type: 'classic', 'quorum' or 'stream' (x-queue-type) */
  readonly type: string;
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusive: boolean;
  /** id of the connection that owns an exclusive queue, or 0 */
  readonly ownerId: number;
  /** the declared arguments (a policy's are merged into `settings`) */
  readonly arguments: FieldTable;
  /** bindings that lead here */
  /** the bindings leading to it (most queues have one: a SmallSet holds it in a field) */
  readonly inbound: SmallSet<Binding>;
  /** routing pass that last reached this queue (see ExchangeRouter.route) */
  routeMark: number;
  deleted: boolean;
  /** name of the policy in effect, if any (for operators) */
  readonly policy: string | null;
  /** effective settings: arguments merged with the policy in effect */
  readonly settings: QueueSettings;
  /** the counters, to count into (a classic queue makes them on first use) */
  readonly stats: QueueStats;
  /** the counters, to read (an idle classic queue's are NO_COUNTS: nothing is made) */
  readonly counters: Readonly<QueueStats>;

  // ---- counts (AMQP declare-ok, management) ----
  /** ready messages (not counting delivered-unacked ones), as AMQP message-count reports */
  readonly messageCount: number;
  readonly consumerCount: number;
  /** deliveries made and not yet settled */
  readonly unackedCount: number;
  /** body bytes of ready messages */
  readonly readyBytes: number;
  /** ready messages held as objects in memory, their bytes, and those paged out to the store */
  readonly windowLength: number;
  readonly windowBytes: number;
  readonly pagedCount: number;
  /** messages kept until their dead-lettering succeeds (quorum at-least-once), and their bytes */
  readonly deadLetterBacklog: number;
  readonly deadLetterBacklogBytes: number;

  // ---- publishing (the vhost's publish path) ----
  /** this queue's id in the vhost's journal, 0 when its messages are not kept there */
  readonly storeId: number;
  /** whether every message is stored in the journal, whatever its delivery mode (quorum) */
  readonly storesEveryMessage: boolean;
  /**
   * whether a message routed here alone may have its body reused after its first delivery is
   * acked (../body-pool.ts): true only where an ack ends the message (classic queues)
   */
  readonly recyclesBodies: boolean;
  /** whether the queue takes one more message now (x-overflow reject-publish; a stream's log state) */
  admit(message: Message): boolean;
  /**
   * Take a routed message: `admit`, then `push`. @returns false when refused (the publisher
   * gets a negative confirm). What it writes outside the journal (a stream's append) goes to `points`.
   */
  enqueue(message: Message, points: DurabilityPoints): boolean;
  /** the next seq, for a message the vhost stores before handing it over with `push` */
  reserveSeq(): number;
  /** Add an admitted message under `seq` (`stored`: the journal already holds it). */
  push(message: Message, seq: number, stored: boolean, points: DurabilityPoints): void;

  // ---- consumers and settling (sessions) ----
  /** sorted as the queue serves them; the vhost empties it when the queue is deleted */
  readonly consumers: Consumer[];
  /** the single active consumer, if the queue has that mode and any consumer */
  readonly activeConsumer: Consumer | undefined;
  hasExclusiveConsumer(): boolean;
  /** whether a session with a global prefetch (basic.qos global=true) may consume (quorum: no) */
  readonly globalQosAllowed: boolean;
  /** basic.consume checks of this kind (a stream's: manual acks, prefetch, offset); throws its error */
  validateConsumer(consumer: Consumer): void;
  addConsumer(consumer: Consumer): void;
  /** @param notify whether the queue may auto-delete now (false while a session is tearing down) */
  removeConsumer(consumer: Consumer, notify?: boolean): void;
  /** auto-delete: once it had consumers and the last one is gone */
  checkUnused(): void;
  /** Hand ready messages to consumers with credit until one side runs out. */
  dispatch(): void;
  /** basic.get: the next ready message, or undefined */
  take(): QueueEntry | undefined;
  /** a basic.get made with manual ack: the entry is out and unacked */
  trackUnacked(entry: QueueEntry): void;
  /** a delivery was acked */
  settle(entry: QueueEntry): void;
  /** a delivery was rejected without requeue */
  reject(entry: QueueEntry): void;
  /** a delivery was given back (`explicit`: by nack/reject, not by a closing channel); call `dispatch` after */
  requeue(entry: QueueEntry, explicit?: boolean): void;
  /** put an entry back among the ready messages at its original position */
  restore(entry: QueueEntry): void;

  // ---- lifecycle (vhost, policies) ----
  /** queue.declare of the existing queue (renews the x-expires lease where the kind does) */
  redeclared(): void;
  /** drop every ready message; @returns how many */
  purge(): number;
  /** a policy was set or cleared: apply the new effective arguments */
  applySettings(effectiveArgs: FieldTable, policy: string | null): void;
  /** everything still ready, for deletion and inspection */
  readyEntries(): IterableIterator<QueueEntry>;
  /** the broker is stopping: no timer of this queue may fire into closed stores */
  stopTimers(): void;
  /** the vhost deleted the queue: stop timers, drop messages (or files) */
  destroy(): void;
}
