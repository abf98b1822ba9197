import type { FieldTable } from '../../codec/types.js';
import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';

/**
 * The routing policy of one exchange type (RabbitMQ's `rabbit_exchange_type` behaviour).
 * One router instance per exchange holds that exchange's binding index.
 *
 * `route` appends every destination the message reaches to `out`, skipping those whose
 * `routeMark` already equals `epoch` and marking those it adds: that de-duplicates across
 * bindings (and exchange-to-exchange hops) without allocating a Set per message.
 */
export interface ExchangeRouter {
  bind(binding: Binding): void;
  unbind(binding: Binding): void;
  /** @returns whether any binding matched, even one whose destination was already routed to */
  route(message: Message, routingKey: string, out: Destination[], epoch: number): boolean;
  /** ms to hold the message before routing it (the delayed-message exchange); absent or 0: route now */
  delayOf?(message: Message): number;
}

export interface ExchangeTypeLookup {
  get(name: string): ExchangeType | undefined;
}

export interface ExchangeType {
  readonly name: string;
  /** @param args the exchange's declare arguments (validated first) */
  create(args: FieldTable, types: ExchangeTypeLookup): ExchangeRouter;
  /** throws a BrokerError when the exchange's declare arguments are invalid for this type */
  validate?(args: FieldTable, types: ExchangeTypeLookup): void;
  /** throws a BrokerError when a binding's arguments are invalid for this type */
  validateBinding?(routingKey: string, args: Binding['arguments']): void;
}

/** Append `d` unless already routed to in this pass. */
export function addDestination(out: Destination[], d: Destination, epoch: number): void {
  if (d.routeMark !== epoch) {
    d.routeMark = epoch;
    out.push(d);
  }
}
