import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';
import { addDestination, type ExchangeRouter, type ExchangeType } from './exchange-type.js';

/** Routes to the bindings whose key equals the routing key (AMQP 0-9-1 §3.1.3.1). */
class DirectRouter implements ExchangeRouter {
  readonly #byKey = new Map<string, Binding[]>();

  bind(b: Binding): void {
    const list = this.#byKey.get(b.routingKey);
    if (list) list.push(b);
    else this.#byKey.set(b.routingKey, [b]);
  }

  unbind(b: Binding): void {
    const list = this.#byKey.get(b.routingKey);
    if (!list) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byKey.delete(b.routingKey);
  }

  route(_message: Message, routingKey: string, out: Destination[], epoch: number): boolean {
    const list = this.#byKey.get(routingKey);
    if (!list) return false;
    for (let i = 0; i < list.length; i++) addDestination(out, list[i].destination, epoch);
    return true;
  }
}

export const directExchange: ExchangeType = { name: 'direct', create: () => new DirectRouter() };
