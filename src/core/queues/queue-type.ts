import type { FieldTable } from '../../codec/types.js';
import type { VhostStore } from '../vhost.js';
import type { Queue, QueueLifecycle } from './queue.js';

/** What a classic (or quorum) queue is built with. */
export interface QueueFlags {
  durable: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /** 0 for a classic FIFO queue, 1–255 for a priority queue */
  maxPriority: number;
  /** id of the connection that owns an exclusive queue, or 0 */
  ownerId: number;
}

/** queue.declare's flags as a queue type sees them. */
export interface QueueDeclareFlags {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  /** the client left the name to the server (amq.gen-…) */
  serverNamed: boolean;
  /** id of the connection that owns an exclusive queue, or 0 */
  ownerId: number;
}

/**
 * What the vhost lends a queue type while it declares or restores a queue: the vhost's
 * name, its store (null: nothing survives a restart), the vhost as the queues'
 * lifecycle, its queue limit, and `adoptQueue` — the queue joins the vhost (its registry and
 * policies) at the point the type chooses, so each kind keeps its own order of checks.
 */
export interface QueueHost extends QueueLifecycle {
  readonly name: string;
  readonly store: VhostStore | null;
  /** throws when the vhost may hold no more queues (limits.ts) */
  checkQueueLimit(queue: string): void;
  adoptQueue(queue: Queue): void;
}

/**
 * One kind of queue (RabbitMQ's `rabbit_queue_type`), chosen by `x-queue-type` and
 * registered in `QueueTypeRegistry` as exchange types are in theirs. Each kind lives in its
 * own folder: classic/ (FIFO or priority buffer), stream/ (a segment log), quorum/.
 */
export interface QueueType {
  /** the `x-queue-type` value that selects it */
  readonly name: string;
  /** arguments only this kind knows: a redeclaration must match them too */
  readonly argumentKeys: readonly string[];
  /** queue.declare of a new queue: validate, adopt into the host, save its definition */
  declare(host: QueueHost, name: string, flags: QueueDeclareFlags, args: FieldTable): Queue;
  /**
   * A durable queue found in the metadata at start, with its store id: adopted into the host,
   * its stored messages its backlog. @returns null when it cannot come back (its files are gone)
   */
  restore(host: QueueHost, id: number, name: string, autoDelete: boolean, args: FieldTable): Queue | null;
}
