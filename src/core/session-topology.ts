/**
 * What one session (channel) does to a vhost's topology: declare, bind, unbind, purge and
 * delete exchanges and queues, each checked against the connection's permissions first, and
 * which queue an empty name means (AMQP 0-9-1 §1.7.2.1: the last queue declared on the
 * channel). The base class of CoreSession (session.ts), whose consuming and getting from a
 * queue name their queue through `readable`.
 */
import type { ConnectionAccess } from '../auth/access.js';
import type { FieldTable } from '../codec/types.js';
import type { ExchangeDeclareOptions, QueueDeclareOptions, QueueDeclareResult } from './api.js';
import { checkBind, checkExchangeDeclare, checkQueueDeclare } from './declare-checks.js';
import { declareReplyPassive, isDirectReplyName } from './delivery/direct-reply-to.js';
import { BrokerError } from './errors.js';
import type { Queue } from './queues/queue.js';
import type { VHost } from './vhost.js';

export class SessionTopology {
  readonly #access: ConnectionAccess;
  readonly #vhost: VHost;
  /** the owning connection: exclusive queues belong to it */
  readonly #connectionId: number;
  /** AMQP 0-9-1 §1.7.2.1: an empty queue name means the last queue declared on the channel */
  #lastQueue = '';

  constructor(access: ConnectionAccess, vhost: VHost, connectionId: number) {
    this.#access = access;
    this.#vhost = vhost;
    this.#connectionId = connectionId;
  }

  // ---- exchanges -------------------------------------------------------------------------

  declareExchange(name: string, type: string, options: ExchangeDeclareOptions): void {
    checkExchangeDeclare(this.#access, this.#vhost, name, options);
    this.#vhost.declareExchange(name, type, options);
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name !== '') this.#access.check('configure', 'exchange', name);
    this.#vhost.deleteExchange(name, ifUnused);
  }

  bindExchange(destination: string, source: string, routingKey: string, args?: FieldTable): void {
    checkBind(this.#access, this.#vhost, 'exchange', destination, source, routingKey);
    const dest = this.#vhost.exchange(destination);
    this.#vhost.bind(source, dest, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args?: FieldTable): void {
    checkBind(this.#access, this.#vhost, 'exchange', destination, source, routingKey);
    // RabbitMQ 3.x (rabbit_binding:remove): unbinding from or to something gone is unbind-ok
    const dest = this.#vhost.exchanges.get(destination);
    if (dest) this.#vhost.unbind(source, dest, routingKey, args);
  }

  // ---- queues ----------------------------------------------------------------------------

  declareQueue(name: string, options: QueueDeclareOptions): QueueDeclareResult {
    if (options.passive && isDirectReplyName(name)) return declareReplyPassive(name, this.#vhost.directReplies, this.#vhost.name);
    checkQueueDeclare(this.#access, this.#vhost, name, options);
    const q = this.#vhost.declareQueue(name, options, this.#connectionId);
    this.#lastQueue = q.name;
    return { queue: q.name, messageCount: q.messageCount, consumerCount: q.consumerCount };
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args?: FieldTable): void {
    checkBind(this.#access, this.#vhost, 'queue', this.#queueName(queue), exchange, routingKey);
    const q = this.#queue(queue);
    this.#vhost.bind(exchange, q, routingKey === '' && queue === '' ? q.name : routingKey, args);
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args?: FieldTable): void {
    const name = this.#queueName(queue);
    checkBind(this.#access, this.#vhost, 'queue', name, exchange, routingKey);
    // RabbitMQ 3.x (rabbit_binding:remove): unbinding a queue that is gone is unbind-ok
    if (!this.#vhost.queues.has(name)) return;
    this.#vhost.unbind(exchange, this.#queue(name), routingKey, args);
  }

  purgeQueue(queue: string): number {
    return this.readable(queue).purge();
  }

  deleteQueue(queue: string, ifUnused: boolean, ifEmpty: boolean): number {
    this.#access.check('configure', 'queue', this.#queueName(queue));
    return this.#vhost.deleteQueue(this.#queueName(queue), this.#connectionId, ifUnused, ifEmpty);
  }

  /** The queue `name` names (empty: the last declared), once the connection may read from it. */
  readable(name: string): Queue {
    this.#access.check('read', 'queue', this.#queueName(name));
    return this.#queue(name);
  }

  #queueName(name: string): string {
    if (name !== '') return name;
    if (this.#lastQueue === '') throw new BrokerError('NOT_FOUND', 'NOT_FOUND - no previously declared queue');
    return this.#lastQueue;
  }

  #queue(name: string): Queue {
    return this.#vhost.queue(this.#queueName(name), this.#connectionId);
  }
}
