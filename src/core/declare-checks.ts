/**
 * The permission checks of declaring and binding, in RabbitMQ's order (rabbit_channel), kept
 * out of the session so that it stays about the session's own state.
 */
import type { ConnectionAccess } from '../auth/access.js';
import type { ExchangeDeclareOptions, QueueDeclareOptions } from './api.js';
import type { VHost } from './vhost.js';

export function checkExchangeDeclare(access: ConnectionAccess, vhost: VHost, name: string, options: ExchangeDeclareOptions): void {
  if (name === '') return;
  if (options.passive) {
    access.checkAny('exchange', name);
    return;
  }
  access.check('configure', 'exchange', name);
  // rabbit_channel exchange.declare: a new exchange with an alternate exchange needs read
  // on itself and write on the alternate
  const ae = options.arguments?.['alternate-exchange'];
  if (typeof ae === 'string' && !vhost.exchanges.has(name)) {
    access.check('read', 'exchange', name);
    access.check('write', 'exchange', ae);
  }
}

/** `name` is the queue's name as given ('' for a server-named queue). */
export function checkQueueDeclare(access: ConnectionAccess, vhost: VHost, name: string, options: QueueDeclareOptions): void {
  if (name === '') return;
  if (options.passive) {
    // rabbit_channel (rabbitmq-server#16085): a passive declare needs some permission on the queue
    access.checkAny('queue', name);
    return;
  }
  access.check('configure', 'queue', name);
  // RabbitMQ: a new queue with a dead-letter exchange needs read on the queue and write on the DLX
  const dlx = options.arguments?.['x-dead-letter-exchange'];
  if (typeof dlx === 'string' && !vhost.queues.has(name)) {
    access.check('read', 'queue', name);
    access.check('write', 'exchange', dlx);
  }
}

/**
 * Binding checks in RabbitMQ's order: the default exchange is refused (403), then write on
 * the destination, read on the source, and topic read permission on the binding key.
 */
export function checkBind(access: ConnectionAccess, vhost: VHost, kind: 'queue' | 'exchange', destination: string, source: string, routingKey: string): void {
  vhost.checkBindable(source, kind === 'exchange' ? destination : undefined);
  access.check('write', kind, destination);
  access.check('read', 'exchange', source);
  const x = vhost.exchanges.get(source);
  if (x?.type === 'topic') access.checkTopic('read', source, routingKey);
}
