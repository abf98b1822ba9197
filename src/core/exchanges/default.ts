import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';
import type { Queue } from '../queues/queue.js';
import { addDestination, type ExchangeRouter } from './exchange-type.js';

/**
 * The default exchange (AMQP 0-9-1 §3.1.3.1, "" ): every queue is implicitly bound to it
 * with its own name as key, and nothing can be bound to it explicitly.
 */
export class DefaultRouter implements ExchangeRouter {
  readonly #queues: Map<string, Queue>;

  constructor(queues: Map<string, Queue>) {
    this.#queues = queues;
  }

  bind(_b: Binding): void {
    throw new Error('bindings on the default exchange are refused by the vhost');
  }

  unbind(_b: Binding): void {}

  route(_message: Message, routingKey: string, out: Destination[], epoch: number): boolean {
    const q = this.#queues.get(routingKey);
    if (!q) return false;
    addDestination(out, q, epoch);
    return true;
  }
}
