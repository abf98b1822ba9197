/**
 * The protocol-neutral API every front-end (AMQP, MQTT, STOMP, management) uses.
 *
 * A front-end opens a `CoreConnection` per client connection and one `Session` per logical
 * channel (an AMQP channel; the whole connection for MQTT and STOMP). Operations throw
 * `BrokerError` (see errors.ts); the front-end maps those onto its protocol. Deliveries and
 * other server-initiated events come back through the `SessionHandler` the front-end gave
 * when opening the session. All calls are synchronous: nothing on the publish/deliver path
 * allocates a promise.
 */
import type { FieldTable, MessageProperties } from '../codec/types.js';
import type { Message } from './message.js';
import type { DurabilityPoints } from './durability.js';
import type { FlowListener } from './publisher-flow.js';
import type { BodyFence } from './body-pool.js';

export interface ConnectionInfo {
  /** protocol name shown to operators: 'amqp-0-9-1', 'mqtt-5', 'stomp-1.2' … */
  protocol: string;
  vhost: string;
  user: string;
  peerHost: string;
  peerPort: number;
  /** a human-readable connection name (AMQP `connection_name` client property, MQTT client id …) */
  name?: string;
  clientProperties?: FieldTable;
  /** the transport's byte and read/write counters, for operators (management's recv_oct, send_oct …) */
  traffic?: TransportTraffic;
}

/** A connection's traffic on its socket, read by management every sample interval (nothing is pushed). */
export interface TransportTraffic {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** chunks read from the socket */
  readonly reads: number;
  /** batches written to the socket (one per flush, not per frame) */
  readonly writes: number;
  /** bytes written but not yet handed to the kernel */
  readonly pendingBytes: number;
}

export interface ExchangeDeclareOptions {
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  arguments?: FieldTable;
}

export interface QueueDeclareOptions {
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: FieldTable;
}

export interface QueueDeclareResult {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface ConsumeOptions {
  /** empty or absent: the server generates one (`amq.ctag-…`) */
  consumerTag?: string;
  noAck?: boolean;
  exclusive?: boolean;
  noLocal?: boolean;
  arguments?: FieldTable;
}

export interface GetResult {
  deliveryTag: number;
  redelivered: boolean;
  message: Message;
  /** messages left in the queue after this one */
  messageCount: number;
}

/** Implemented by the front-end; the core calls it. Positional arguments: no allocation per delivery. */
export interface SessionHandler {
  /** A message for one of this session's consumers. */
  deliver(consumerTag: string, deliveryTag: number, redelivered: boolean, message: Message): void;
  /** The server cancelled a consumer (its queue was deleted …): AMQP basic.cancel from the server. */
  consumerCancelled(consumerTag: string): void;
  /** A mandatory message could not be routed (AMQP basic.return 312 NO_ROUTE). */
  returned(message: Message, replyCode: number, replyText: string): void;
  /**
   * The fate of a publish made with a confirm token: `ack` true once the broker has taken
   * responsibility — for what it stored, once every durability point of the publish is
   * durable (its journal record, its stream appends) — false if it refused the message
   * (`error` null: a full queue with x-overflow reject-publish …) or could not make it durable
   * (`error`: the store's failure).
   */
  confirmed(token: number, ack: boolean, error: Error | null): void;
  /**
   * Optional: an ack ended a message whose body came from the body pool (body-pool.ts). The
   * front-end gives it back (`bodyPool.release(body, fence, lsn)`) once every byte it queued for
   * the socket before this call has left the process, or drops it; a front-end without this
   * never recycles.
   */
  bodyDone?(body: Buffer, fence: BodyFence, lsn: number): void;
}

/** An unacked delivery's place: `Session.deliveryPosition`. */
export interface DeliveryPosition {
  queue: string;
  seq: number;
}

export interface Session {
  readonly id: number;
  readonly connection: CoreConnection;
  /** deliveries to this session's consumers not yet acked, nacked or rejected */
  readonly unackedCount: number;

  declareExchange(name: string, type: string, options: ExchangeDeclareOptions): void;
  deleteExchange(name: string, ifUnused: boolean): void;
  bindExchange(destination: string, source: string, routingKey: string, args?: FieldTable): void;
  unbindExchange(destination: string, source: string, routingKey: string, args?: FieldTable): void;

  declareQueue(name: string, options: QueueDeclareOptions): QueueDeclareResult;
  bindQueue(queue: string, exchange: string, routingKey: string, args?: FieldTable): void;
  unbindQueue(queue: string, exchange: string, routingKey: string, args?: FieldTable): void;
  /** @returns the number of messages purged */
  purgeQueue(queue: string): number;
  /** @returns the number of messages the queue held */
  deleteQueue(queue: string, ifUnused: boolean, ifEmpty: boolean): number;

  /**
   * Publish. With `confirmToken` set, `handler.confirmed(token, …)` is called exactly once,
   * possibly before `publish` returns. A mandatory message that reaches no queue is returned
   * through `handler.returned` (before its confirmation, as AMQP requires). With `points`
   * given (cleared first), the publish's durability points are left there for the caller, who
   * may wait for them again later (`whenAllDurable`) — e.g. to answer a resent MQTT QoS 2
   * PUBLISH, after the first copy's confirm went to a connection that has ended.
   */
  publish(message: Message, mandatory: boolean, confirmToken?: number, points?: DurabilityPoints): void;
  /**
   * Publish `messages` as one (not mandatory): checked and routed once when they share an
   * exchange and a routing key, appended back to back with one durability point when they go
   * to one stream queue (a Kafka record batch), else published one by one. With
   * `confirmToken`, one confirm for the whole batch (negative when any message was refused).
   */
  publishBatch(messages: readonly Message[], confirmToken?: number): void;
  /** The checks `publish` makes before routing (permissions, exchange, user-id, CC/BCC), alone: a transaction holding the publish makes them now. */
  checkPublish(message: Message): void;

  /** prefetch (message count) per consumer, or for the whole session when `global` (RabbitMQ's reading of basic.qos) */
  qos(prefetchCount: number, global: boolean): void;
  /** @returns the consumer tag */
  consume(queue: string, options: ConsumeOptions): string;
  cancel(consumerTag: string): void;
  get(queue: string, noAck: boolean): GetResult | null;

  ack(deliveryTag: number, multiple: boolean): void;
  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void;
  reject(deliveryTag: number, requeue: boolean): void;
  /**
   * An ack (`requeue` null), nack or reject inside an AMQP transaction: the deliveries are
   * taken now (an unknown tag fails now, as RabbitMQ's collect_acks), settled by
   * `commitSettlements`, given back unacked by `rollbackSettlements`.
   */
  holdSettlement(deliveryTag: number, multiple: boolean, requeue: boolean | null): void;
  commitSettlements(): void;
  rollbackSettlements(): void;
  /** Give back every unacked delivery of this session (redelivered), as basic.recover. */
  recover(requeue: boolean): void;
  /**
   * Where an unacked delivery sits: its queue and the entry's sequence number there, which a
   * stored message of a durable queue keeps across a restart (so a front-end can recognise the
   * redelivery of something it had sent). Null for a tag that is not unacked.
   */
  deliveryPosition(deliveryTag: number): DeliveryPosition | null;

  /** Pause or resume deliveries to this session (AMQP channel.flow; the AMQP plugin refuses active=false, as RabbitMQ). */
  setFlow(active: boolean): void;
  /**
   * Backpressure from the socket: while false, no deliveries are made to this session; set
   * true again (on 'drain') to resume. Cheap to call often.
   */
  setWritable(writable: boolean): void;

  /** End the session: consumers cancelled, unacked messages requeued as redelivered. */
  close(): void;
}

export interface CoreConnection {
  readonly id: number;
  readonly info: ConnectionInfo;
  openSession(handler: SessionHandler): Session;
  /**
   * @throws BrokerError ACCESS_REFUSED unless the user may `access` the named queue or exchange
   * (for front-ends whose operations are not session calls, as Kafka's produce to a topic's streams)
   */
  checkAccess(access: 'configure' | 'write' | 'read', kind: 'queue' | 'exchange', name: string): void;
  /** End the connection: every session closed, exclusive queues deleted. */
  close(): void;
  /**
   * Set by the front-end: how the core asks it to end this connection from the server side
   * (an operator closed it through management). The front-end tells its client `reason` in
   * its protocol's way (AMQP connection.close 320 CONNECTION_FORCED …), then closes. A
   * function, or an object whose `serverClose` is called (the front-end's connection itself:
   * no closure per connection).
   */
  onServerClose: ((reason: string) => void) | ServerCloser | null;
  /**
   * Set by a front-end that publishes: told to stop reading its client while a queue it
   * published to holds it (src/core/publisher-flow.ts), and to read again when let go.
   */
  flow: FlowListener | null;
  /** whether a queue holds it now: a front-end that resumes reading for its own reasons stays paused while so */
  readonly flowHeld: boolean;
}

/** A front-end connection the core can ask to end (`CoreConnection.onServerClose`). */
export interface ServerCloser {
  serverClose(reason: string): void;
}

/** What a publish carries before it becomes a `Message`; helpers for front-ends. */
export interface PublishInput {
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  body: Buffer;
}
export type { StreamView } from './stream-view.js';
