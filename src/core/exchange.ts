import type { FieldTable } from '../codec/types.js';
import type { Binding } from './binding.js';
import type { ExchangeRouter } from './exchanges/exchange-type.js';

export interface ExchangeFlags {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

/** An exchange of one vhost: its flags, its outgoing bindings and the router that indexes them. */
export class Exchange {
  readonly kind = 'exchange' as const;
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
  readonly router: ExchangeRouter;
  /** bindings with this exchange as source, by identity */
  readonly bindings = new Map<string, Binding>();
  /** bindings with this exchange as destination (exchange-to-exchange) */
  readonly inbound = new Set<Binding>();
  /** declared arguments merged with the policy in effect (alternate-exchange) */
  effectiveArguments: FieldTable;
  /** name of the policy in effect, if any */
  policy: string | null = null;
  /** routing pass that last reached this exchange (see ExchangeRouter.route) */
  routeMark = 0;
  deleted = false;
  /**
   * A durable delayed-message exchange keeps its held persistent messages in the vhost's
   * journal under this store queue id (0: none), with their due time as the expiry.
   */
  delayStoreId = 0;
  delaySeq = 0;
  /** messages published to this exchange, and copies it routed to queues (RabbitMQ's publish_in, publish_out) */
  publishIn = 0;
  publishOut = 0;

  constructor(name: string, type: string, flags: ExchangeFlags, router: ExchangeRouter) {
    this.name = name;
    this.type = type;
    this.durable = flags.durable;
    this.autoDelete = flags.autoDelete;
    this.internal = flags.internal;
    this.arguments = flags.arguments;
    this.effectiveArguments = flags.arguments;
    this.router = router;
  }
}
