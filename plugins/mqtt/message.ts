/**
 * MQTT PUBLISH ↔ core `Message` (AMQP 0-9-1 basic properties, the canonical form), after
 * RabbitMQ's `mc_mqtt` conversions (rabbitmq.com/docs/conversions):
 *
 *   MQTT                          AMQP 0-9-1
 *   QoS 0 / QoS ≥ 1               delivery-mode 1 / 2 (persistent)
 *   Content Type                  content-type (when ASCII and ≤ 255 bytes)
 *   User Property                 headers (a repeated name becomes an array of strings)
 *   Response Topic                reply-to = header x-reply-to-topic = the topic as a routing key
 *   Correlation Data              correlation-id when a short UTF-8 string, else header x-correlation-id
 *   Message Expiry Interval (s)   expiration (ms)
 *
 * Every message an MQTT client publishes carries the headers RabbitMQ's MQTT plugin has always
 * set (3.x `rabbit_mqtt_processor`, which AMQP consumers read): `x-mqtt-publish-qos` (a byte,
 * field type 'b', 0..2) and `x-mqtt-dup` (a boolean). Two more MQTT facts travel in `x-mqtt-`
 * headers only when they matter: `x-mqtt-retain` (for retain-as-published subscriptions) and
 * `x-mqtt-payload-format-indicator`.
 * AMQP → MQTT is the reverse: the QoS is `x-mqtt-publish-qos` when the message has it (so QoS 2
 * and QoS 0 survive a trip through AMQP), else delivery-mode 2 is QoS 1 and 1 is QoS 0
 * (RabbitMQ's rule). Headers that are not strings become user properties when they have a text
 * form (numbers, booleans, timestamps), others are dropped, as RabbitMQ does.
 */
import type { IPublishPacket, QoS } from 'mqtt-packet';
import { type FieldTable, type FieldValue, type MessageProperties, encodeProperties, numericValue, TypedValue } from '../../src/codec/index.js';
import { Message, type LargeBody } from '../../src/core/index.js';
import { routingKeyToTopic, topicToRoutingKey } from './topics.js';

export type PublishProperties = NonNullable<IPublishPacket['properties']>;

export const HEADER_QOS = 'x-mqtt-publish-qos';
export const HEADER_RETAIN = 'x-mqtt-retain';
export const HEADER_PAYLOAD_FORMAT = 'x-mqtt-payload-format-indicator';
export const HEADER_REPLY_TO_TOPIC = 'x-reply-to-topic';
export const HEADER_CORRELATION_ID = 'x-correlation-id';
export const HEADER_DUP = 'x-mqtt-dup';

/** The byte RabbitMQ writes for `x-mqtt-publish-qos` (field type 'b'). */
const qosHeader = (qos: number): TypedValue => new TypedValue('b', qos);

/**
 * The properties of a PUBLISH without MQTT 5 properties or retain flag, one per QoS and dup
 * flag: shared and frozen, so the common case allocates no properties object per message.
 */
const PLAIN: readonly MessageProperties[] = [0, 1, 2].flatMap((qos) =>
  [false, true].map((dup) =>
    Object.freeze({ deliveryMode: qos > 0 ? 2 : 1, headers: Object.freeze({ [HEADER_QOS]: qosHeader(qos), [HEADER_DUP]: dup }) }),
  ),
);
/** The same, encoded once (content-header flags and fields): the store and AMQP deliveries write these bytes as they are. */
const PLAIN_ENCODED: readonly Buffer[] = PLAIN.map((p) => encodeProperties(p));

/** What an inbound PUBLISH (or a will) carries, already validated. */
export interface MqttPublish {
  routingKey: string;
  qos: QoS;
  retain: boolean;
  /** the PUBLISH's DUP flag (false for wills and retained messages) */
  dup: boolean;
  payload: Buffer;
  /** a payload kept in the journal (plugins/mqtt/inbound-body.ts); `payload` is then empty */
  bodyRef?: LargeBody | null;
  /** MQTT 5 properties (topic alias already resolved and removed) */
  properties: PublishProperties | undefined;
}

/** An inbound PUBLISH as the core message published to the MQTT exchange. */
export function toCoreMessage(exchange: string, p: MqttPublish, sparkplug: boolean): Message {
  const props = p.properties;
  if (!props && !p.retain) {
    const i = p.qos * 2 + (p.dup ? 1 : 0);
    return new Message(exchange, p.routingKey, PLAIN[i], p.payload, PLAIN_ENCODED[i], Date.now(), p.bodyRef ?? null);
  }
  const out: MessageProperties = { deliveryMode: p.qos > 0 ? 2 : 1 };
  const headers: FieldTable = { [HEADER_QOS]: qosHeader(p.qos), [HEADER_DUP]: p.dup };
  const header = (name: string, value: FieldValue) => {
    headers[name] = value;
  };
  if (p.retain) header(HEADER_RETAIN, true);
  if (props) {
    if (props.contentType !== undefined && isShortAscii(props.contentType)) out.contentType = props.contentType;
    if (props.userProperties) {
      for (const [name, value] of Object.entries(props.userProperties)) {
        if (Buffer.byteLength(name) <= 255) header(name, Array.isArray(value) ? [...value] : value);
      }
    }
    if (props.responseTopic !== undefined) {
      const key = topicToRoutingKey(props.responseTopic, sparkplug);
      out.replyTo = key;
      header(HEADER_REPLY_TO_TOPIC, key);
    }
    if (props.correlationData !== undefined) {
      const text = shortUtf8(props.correlationData);
      if (text !== null) out.correlationId = text;
      else header(HEADER_CORRELATION_ID, Buffer.from(props.correlationData));
    }
    if (props.messageExpiryInterval !== undefined) out.expiration = String(props.messageExpiryInterval * 1000);
    if (props.payloadFormatIndicator) header(HEADER_PAYLOAD_FORMAT, 1);
  }
  out.headers = headers;
  return new Message(exchange, p.routingKey, out, p.payload, null, Date.now(), p.bodyRef ?? null);
}

/**
 * The QoS a message was published with: its `x-mqtt-publish-qos` header when it has one (any
 * integer type: AMQP clients send it as they like), else 1 for a persistent message and 0 for a
 * transient one (RabbitMQ's rule: the header decides before the delivery mode).
 */
export function publishedQos(message: Message): QoS {
  const h = message.properties.headers;
  if (h !== undefined) {
    const q = numericValue(h[HEADER_QOS]);
    if (q === 0 || q === 1 || q === 2) return q;
  }
  return message.persistent ? 1 : 0;
}

export function publishedRetained(message: Message): boolean {
  return message.properties.headers?.[HEADER_RETAIN] === true;
}

// one-entry cache: a fan-out delivers the same message to many connections in a row
let lastMessage: Message | null = null;
let lastSparkplug = false;
let lastProperties: PublishProperties | undefined;

/**
 * The MQTT 5 PUBLISH properties of a core message, except the per-delivery ones (Message
 * Expiry Interval, Topic Alias, Subscription Identifier). Shared between deliveries, so frozen.
 */
export function publishPropertiesOf(message: Message, sparkplug: boolean): PublishProperties | undefined {
  if (message === lastMessage && sparkplug === lastSparkplug) return lastProperties;
  lastMessage = message;
  lastSparkplug = sparkplug;
  lastProperties = convertProperties(message.properties, sparkplug);
  return lastProperties;
}

function convertProperties(p: MessageProperties, sparkplug: boolean): PublishProperties | undefined {
  if (PLAIN.includes(p)) return undefined;
  const out: PublishProperties = {};
  let any = false;
  if (p.contentType !== undefined) {
    out.contentType = p.contentType;
    any = true;
  }
  const h = p.headers;
  const replyTopic = h?.[HEADER_REPLY_TO_TOPIC];
  if (typeof replyTopic === 'string') {
    out.responseTopic = routingKeyToTopic(replyTopic, sparkplug);
    any = true;
  } else if (p.replyTo !== undefined && p.replyTo !== '') {
    out.responseTopic = routingKeyToTopic(p.replyTo, sparkplug);
    any = true;
  }
  if (p.correlationId !== undefined) {
    out.correlationData = Buffer.from(p.correlationId);
    any = true;
  } else {
    const c = h?.[HEADER_CORRELATION_ID];
    if (Buffer.isBuffer(c)) out.correlationData = c;
    else if (typeof c === 'string') out.correlationData = Buffer.from(c);
    if (out.correlationData) any = true;
  }
  if (h) {
    if (h[HEADER_PAYLOAD_FORMAT] === 1) {
      out.payloadFormatIndicator = true;
      any = true;
    }
    let user: Record<string, string | string[]> | undefined;
    for (const name in h) {
      if (name.startsWith('x-mqtt-') || name === HEADER_REPLY_TO_TOPIC || name === HEADER_CORRELATION_ID) continue;
      const value = userPropertyValue(h[name]);
      if (value === null) continue;
      user ??= {};
      user[name] = value;
    }
    if (user) {
      out.userProperties = user;
      any = true;
    }
  }
  return any ? Object.freeze(out) : undefined;
}

/** A header value as an MQTT user property value (UTF-8 text), or null when it has no text form. */
function userPropertyValue(v: FieldValue): string | string[] | null {
  if (v instanceof TypedValue) v = v.value as FieldValue;
  switch (typeof v) {
    case 'string':
      return v.includes('\u0000') ? null : v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v === null) return '';
  if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return null; // tables, byte arrays, mixed arrays: no text form (RabbitMQ drops them too)
}

/**
 * The Message Expiry Interval to send with a delivery: the received value minus the time the
 * message waited in the broker (MQTT-3.3.2-6). Undefined when it has no expiry; 0 never
 * occurs for a message still deliverable (it rounds up).
 */
export function remainingExpirySeconds(message: Message, now: number): number | undefined {
  if (message.ttl < 0) return undefined;
  const left = message.publishedAt + message.ttl - now;
  return Math.max(1, Math.ceil(left / 1000));
}

function isShortAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length <= 255 && /^[\x00-\x7f]*$/.test(s);
}

/** The bytes as a string when they are valid UTF-8 of ≤ 255 bytes with no NUL (an AMQP shortstr), else null. */
function shortUtf8(b: Buffer): string | null {
  if (b.length > 255 || b.includes(0)) return null;
  const s = b.toString('utf8');
  return Buffer.byteLength(s) === b.length && !s.includes('\ufffd') ? s : null;
}
