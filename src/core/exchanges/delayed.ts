import { numericValue, type FieldTable } from '../../codec/types.js';
import type { Binding, Destination } from '../binding.js';
import { preconditionFailed } from '../errors.js';
import type { Message } from '../message.js';
import type { ExchangeRouter, ExchangeType, ExchangeTypeLookup } from './exchange-type.js';

export const DELAYED_TYPE = 'x-delayed-message';

/**
 * The delayed-message exchange users know from RabbitMQ's plugin: declared with type
 * `x-delayed-message` and argument `x-delayed-type` (the routing it behaves as); a message
 * with an `x-delay` header (ms) is held that long, then routed. Bindings and routing are
 * the inner type's; holding is done by the vhost's scheduler (no cap on the delay).
 */
class DelayedRouter implements ExchangeRouter {
  readonly #inner: ExchangeRouter;

  constructor(inner: ExchangeRouter) {
    this.#inner = inner;
  }

  bind(b: Binding): void {
    this.#inner.bind(b);
  }

  unbind(b: Binding): void {
    this.#inner.unbind(b);
  }

  route(message: Message, routingKey: string, out: Destination[], epoch: number): boolean {
    return this.#inner.route(message, routingKey, out, epoch);
  }

  delayOf(message: Message): number {
    const d = message.properties.headers?.['x-delay'];
    const n = typeof d === 'string' ? Number(d) : (numericValue(d) ?? 0);
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  }
}

function innerType(args: FieldTable, types: ExchangeTypeLookup): ExchangeType {
  const name = args['x-delayed-type'];
  const t = typeof name === 'string' && name !== DELAYED_TYPE ? types.get(name) : undefined;
  if (!t) throw preconditionFailed("Invalid argument, 'x-delayed-type' must be an existing exchange type");
  return t;
}

export const delayedExchange: ExchangeType = {
  name: DELAYED_TYPE,
  validate(args, types) {
    innerType(args, types);
  },
  create(args, types) {
    return new DelayedRouter(innerType(args, types).create(args, types));
  },
};
