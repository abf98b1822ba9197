import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';
import { addDestination, type ExchangeRouter, type ExchangeType } from './exchange-type.js';

/** Routes to every binding, ignoring the routing key (AMQP 0-9-1 §3.1.3.2). */
class FanoutRouter implements ExchangeRouter {
  readonly #bindings: Binding[] = [];

  bind(b: Binding): void {
    this.#bindings.push(b);
  }

  unbind(b: Binding): void {
    const i = this.#bindings.indexOf(b);
    if (i >= 0) this.#bindings.splice(i, 1);
  }

  route(_message: Message, _routingKey: string, out: Destination[], epoch: number): boolean {
    const list = this.#bindings;
    for (let i = 0; i < list.length; i++) addDestination(out, list[i].destination, epoch);
    return list.length > 0;
  }
}

export const fanoutExchange: ExchangeType = { name: 'fanout', create: () => new FanoutRouter() };
