import type { FieldTable } from '../../codec/types.js';
import { classicQueue } from './classic/classic-type.js';
import { quorumQueue } from './quorum/quorum-type.js';
import { streamQueue } from './stream/stream-type.js';
import { unwrap } from './queue-arguments.js';
import type { QueueType } from './queue-type.js';

/**
 * Queue types by their `x-queue-type` name. Built-ins are registered here; one more kind is
 * one more `register` (RabbitMQ's queue types are registered the same way).
 */
export class QueueTypeRegistry {
  readonly #types = new Map<string, QueueType>();

  constructor() {
    for (const t of [classicQueue, quorumQueue, streamQueue]) this.register(t);
  }

  register(type: QueueType): void {
    this.#types.set(type.name, type);
  }

  get(name: string): QueueType | undefined {
    return this.#types.get(name);
  }

  /**
   * The type a queue.declare's arguments select: its `x-queue-type`, or classic — which also
   * takes an unknown one, so that classic's argument check refuses it with RabbitMQ's text.
   */
  forArguments(args: FieldTable): QueueType {
    const name = unwrap(args['x-queue-type']);
    return (typeof name === 'string' ? this.#types.get(name) : undefined) ?? classicQueue;
  }

  names(): string[] {
    return [...this.#types.keys()];
  }
}
