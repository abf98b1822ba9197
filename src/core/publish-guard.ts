/**
 * The checks basic.publish makes before routing, in RabbitMQ's order (rabbit_channel): write
 * permission on the exchange (one regex test per change of exchange name, not per message),
 * user-id against the authenticated user, the exchange exists, topic write permission on the
 * routing key, not an internal exchange. Kept out of the session so that it stays about the
 * session's own state.
 */
import type { ConnectionAccess } from '../auth/access.js';
import { accessRefused, preconditionFailed } from './errors.js';
import type { Exchange } from './exchange.js';
import type { Message } from './message.js';
import type { VHost } from './vhost.js';

export class PublishGuard {
  /** the last exchange this session was found allowed to publish to */
  #writableExchange: string | null = null;

  constructor(
    readonly access: ConnectionAccess,
    readonly vhost: VHost,
  ) {}

  /** @returns the exchange the message goes to; throws the error RabbitMQ would answer */
  check(message: Message): Exchange {
    const access = this.access;
    if (message.exchange !== this.#writableExchange) {
      access.check('write', 'exchange', message.exchange);
      this.#writableExchange = message.exchange;
    }
    const userId = message.properties.userId;
    if (userId !== undefined && userId !== access.user) {
      throw preconditionFailed(`user_id property set to '${userId}' but authenticated user was '${access.user}'`);
    }
    const x = this.vhost.exchange(message.exchange);
    if (x.type === 'topic') access.checkTopic('write', x.name, message.routingKey);
    if (x.internal) throw accessRefused(`cannot publish to internal exchange '${x.name}' in vhost '${this.vhost.name}'`);
    return x;
  }
}
