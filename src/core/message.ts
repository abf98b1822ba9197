/**
 * The protocol-neutral message. Its properties are AMQP 0-9-1 basic properties, the
 * canonical form every front-end maps onto (as RabbitMQ's message containers do).
 *
 * A message is immutable once published: the same instance sits in every queue it was
 * routed to. Per-queue state (redelivered, delivery count, expiry) lives in the queue's
 * entry, not here. Code that needs different properties (dead-lettering, BCC stripping)
 * makes a new message with `withProperties`.
 */
import type { MessageProperties } from '../codec/types.js';
import type { LargeBody } from '../store/large-body.js';

let nextMessageId = 1;

/** the body of a message whose bytes are elsewhere (`bodyRef`), or of an empty one */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);

export class Message {
  /** broker-wide unique id, used by the store and for tracing */
  readonly id: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  readonly body: Buffer;
  /**
   * A body larger than memory, kept in the journal (src/store/large-body.ts) and read from
   * there a piece at a time; `body` is then empty and `size` is the real size. A copy made with
   * `withProperties` (dead-lettering, BCC) names the same stored bytes.
   */
  readonly bodyRef: LargeBody | null;
  /**
   * The properties as encoded bytes (AMQP content-header property flags + fields) when the
   * message arrived in that form, so that AMQP deliveries and the store write them as they
   * came instead of re-encoding; null when they must be encoded from `properties`.
   */
  readonly encodedProperties: Buffer | null;
  /** 0 when absent; a queue clamps it to its own maximum */
  readonly priority: number;
  readonly persistent: boolean;
  /** per-message TTL in ms from the `expiration` property, or -1 when none */
  readonly ttl: number;
  /** when the broker received it (ms since the epoch) */
  readonly publishedAt: number;
  /**
   * id of the connection that published it (set by the session on publish; 0 when the broker
   * made it): lets front-ends honour "no local" subscriptions (MQTT 5 no-local option).
   */
  publisherId = 0;
  /**
   * The body came from the body pool (../core/body-pool.ts) and nothing but this message is
   * known to hold it: it may be reused after its one queue's first delivery is acked.
   * Cleared by anything that shares the body or cannot tell when it is done with it.
   */
  pooled = false;
  /**
   * The durability point (LSN) of the last journal record written with this body, 0 when none:
   * a pooled body is reused only once its store is durable past it (no gather write still reads it).
   */
  journalLsn = 0;

  constructor(
    exchange: string,
    routingKey: string,
    properties: MessageProperties,
    body: Buffer,
    encodedProperties: Buffer | null = null,
    publishedAt = Date.now(),
    bodyRef: LargeBody | null = null,
  ) {
    this.id = nextMessageId++;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.properties = properties;
    this.body = body;
    this.bodyRef = bodyRef;
    this.encodedProperties = encodedProperties;
    const p = properties.priority;
    this.priority = typeof p === 'number' && p > 0 ? p : 0;
    this.persistent = properties.deliveryMode === 2;
    this.ttl = parseExpiration(properties.expiration);
    this.publishedAt = publishedAt;
  }

  get size(): number {
    return this.bodyRef === null ? this.body.length : this.bodyRef.size;
  }

  /** A copy with other properties (and optionally another exchange/routing key), re-encoded on demand. */
  withProperties(properties: MessageProperties, exchange = this.exchange, routingKey = this.routingKey): Message {
    this.pooled = false; // the copy shares the body and may outlive this message's ack
    const copy = new Message(exchange, routingKey, properties, this.body, null, this.publishedAt, this.bodyRef);
    copy.publisherId = this.publisherId;
    return copy;
  }
}

/**
 * RabbitMQ reads `expiration` as a non-negative integer count of milliseconds in a string;
 * anything else is rejected at publish (see `validateExpiration`). Returns -1 when absent.
 */
export function parseExpiration(expiration: string | undefined): number {
  if (expiration === undefined) return -1;
  const n = Number(expiration);
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

/** @returns an error text when the expiration property is present but invalid (RabbitMQ: 406 on publish) */
export function validateExpiration(expiration: string | undefined): string | null {
  if (expiration === undefined) return null;
  if (!/^\d+$/.test(expiration)) return `invalid expiration '${expiration}'`;
  return null;
}
