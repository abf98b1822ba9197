/**
 * Value types of the canonical message form: AMQP 0-9-1 basic properties and field tables
 * (RabbitMQ's field-table dialect, as amqplib and pika speak it). Every protocol front-end
 * maps its own messages onto these, as RabbitMQ does with its `mc_amqpl` container.
 *
 * Decoding maps wire types to plain JS values; values whose wire type cannot be inferred
 * from the JS value on re-encoding are wrapped in `TypedValue`, so that a table decoded and
 * encoded again gives the same bytes.
 */

/** A field value whose wire type is kept explicitly (AMQP type tag character). */
export class TypedValue {
  constructor(
    /** RabbitMQ field-table type tag: 'b' 'B' 's' 'u' 'I' 'i' 'l' 'f' 'd' 'D' 'T' ... */
    readonly type: string,
    readonly value: unknown,
  ) {}
}

/** A decimal ('D'): value = digits / 10^places. */
export interface Decimal {
  places: number;
  digits: number;
}

export type FieldValue =
  | string // 'S' long string
  | number // 'I' (int32) when an integer in range, 'l' (int64) for larger integers, 'd' (double) otherwise
  | bigint // 'l' int64 outside the safe integer range
  | boolean // 't'
  | Buffer // 'x' byte array
  | Date // 'T' timestamp (seconds since the epoch on the wire)
  | null // 'V' void
  | FieldValue[] // 'A' array
  | FieldTable // 'F' nested table
  | TypedValue; // any other tag, kept as received

export interface FieldTable {
  [key: string]: FieldValue;
}

/** AMQP 0-9-1 basic class content-header properties (spec §4.2.6.1, class basic). */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  /** 1 = transient, 2 = persistent */
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** per-message TTL in milliseconds, as a decimal string (RabbitMQ's convention) */
  expiration?: string;
  messageId?: string;
  /** seconds since the epoch */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/**
 * The number a field value holds, whatever integer or float tag carried it (amqplib sends
 * small integers as 'b'/'s', pika as 'l'; RabbitMQ compares them by type class, not tag),
 * or undefined when it is not numeric.
 */
export function numericValue(v: FieldValue | undefined): number | undefined {
  if (v instanceof TypedValue) v = v.value as FieldValue;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}
