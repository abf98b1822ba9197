/**
 * One STOMP subscription: a consumer on its own core session, so that acknowledgements,
 * prefetch and requeue-on-close are naturally per subscription (`client` mode's cumulative
 * ACK is AMQP's `multiple` on that session alone).
 *
 * After UNSUBSCRIBE the consumer is cancelled but, as in RabbitMQ, messages already delivered
 * may still be acknowledged; the session is closed once none is left unsettled (or with the
 * connection, which requeues what is left).
 */
import type { Session, SessionHandler, Message, LargeBody } from '../../src/core/index.js';
import { escapeHeader, type StompVersion } from './frame.js';
import { formatDestination } from './destinations.js';
import { propertyHeaders } from './message.js';
import { StompError } from './errors.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  readonly version: StompVersion;
  sendFrame(head: string, body: Buffer | LargeBody | null): void;
  /** the queue went away: tell the client (no core calls from here: this runs inside the core) */
  subscriptionCancelled(subscription: Subscription): void;
  /** encoding a delivery threw: fail the connection later, never inside the core */
  deliveryFailed(e: unknown): void;
}

export class Subscription implements SessionHandler {
  /** per-connection number, part of every ack id */
  readonly number: number;
  /** the STOMP `id` (for 1.0 frames without one: the destination) */
  readonly id: string;
  readonly ackMode: AckMode;
  readonly queue: string;
  /** set by UNSUBSCRIBE with `durable:true`: the queue is deleted */
  readonly durable: boolean;
  /** a reply queue's internal subscription: cannot be unsubscribed */
  readonly internal: boolean;
  session!: Session;
  consumerTag = '';
  retired = false;

  readonly #owner: SubscriptionOwner;
  /** `<connection>-<subscription>-`: the ack id is this plus the delivery tag */
  readonly #ackPrefix: string;
  /** the `subscription:` header line, escaped once */
  readonly #subscriptionLine: string;
  readonly #sendsAckHeader: boolean;
  #lastTag = 0;
  #unsettled = 0;
  // one-entry cache: consecutive messages usually share exchange and routing key
  #lastExchange = '';
  #lastKey: string | null = null;
  #lastDestinationLine = '';

  constructor(
    owner: SubscriptionOwner,
    connectionId: number,
    number: number,
    id: string,
    ackMode: AckMode,
    queue: string,
    durable: boolean,
    internal = false,
  ) {
    this.#owner = owner;
    this.number = number;
    this.id = id;
    this.ackMode = ackMode;
    this.queue = queue;
    this.durable = durable;
    this.internal = internal;
    this.#ackPrefix = `${connectionId}-${number}-`;
    this.#subscriptionLine = 'subscription:' + escapeHeader(id, owner.version) + '\n';
    // STOMP 1.2 "MESSAGE": an `ack` header when the subscription needs acknowledgement
    this.#sendsAckHeader = owner.version === '1.2' && ackMode !== 'auto';
  }

  /** The connection id and subscription number an ack id names, or null if it is not one of ours. */
  static parseAckId(ackId: string): { connection: number; subscription: number; tag: number } | null {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(ackId);
    if (!m) return null;
    return { connection: Number(m[1]), subscription: Number(m[2]), tag: Number(m[3]) };
  }

  get unsettled(): number {
    return this.#unsettled;
  }

  // ---- SessionHandler: called by the core; encode and buffer only ----------------------------

  deliver(_consumerTag: string, deliveryTag: number, redelivered: boolean, message: Message): void {
    try {
      this.#deliver(deliveryTag, redelivered, message);
    } catch (e) {
      this.#owner.deliveryFailed(e);
    }
  }

  #deliver(deliveryTag: number, redelivered: boolean, message: Message): void {
    const version = this.#owner.version;
    const ackId = this.#ackPrefix + deliveryTag;
    let head = 'MESSAGE\n' + this.#subscriptionLine + this.#destinationLine(message, version);
    head += 'message-id:' + ackId + (redelivered ? '\nredelivered:true\n' : '\nredelivered:false\n');
    if (this.#sendsAckHeader) head += 'ack:' + ackId + '\n';
    head += propertyHeaders(message.properties, version);
    head += 'content-length:' + message.size + '\n\n';
    if (this.ackMode !== 'auto') {
      this.#unsettled++;
      this.#lastTag = deliveryTag;
    }
    // a body kept in the journal streams from it (transport.ts)
    this.#owner.sendFrame(head, message.bodyRef ?? message.body);
  }

  consumerCancelled(_consumerTag: string): void {
    this.#owner.subscriptionCancelled(this);
  }

  returned(): void {}

  confirmed(): void {}

  // ---- acknowledgement ------------------------------------------------------------------------

  /** ACK (`ack` true) or NACK a delivery: cumulative in `client` mode, one message in `client-individual`. */
  settle(deliveryTag: number, ack: boolean, requeue: boolean): void {
    if (this.ackMode === 'auto') {
      throw new StompError('Invalid acknowledgement', `subscription '${this.id}' uses ack:auto: its messages need no ACK or NACK`);
    }
    const multiple = this.ackMode === 'client';
    if (ack) this.session.ack(deliveryTag, multiple);
    else this.session.nack(deliveryTag, multiple, requeue);
    // tags of one session are consecutive, and `client` mode settles everything up to the tag
    this.#unsettled = multiple ? this.#lastTag - deliveryTag : this.#unsettled - 1;
  }

  #destinationLine(message: Message, version: StompVersion): string {
    if (message.exchange !== this.#lastExchange || message.routingKey !== this.#lastKey) {
      this.#lastExchange = message.exchange;
      this.#lastKey = message.routingKey;
      this.#lastDestinationLine =
        'destination:' + escapeHeader(formatDestination(message.exchange, message.routingKey), version) + '\n';
    }
    return this.#lastDestinationLine;
  }
}
