/**
 * STOMP headers ↔ AMQP 0-9-1 basic properties, the canonical message form, the way RabbitMQ's
 * STOMP plugin maps them (rabbitmq.com/docs/stomp "Queue Properties"):
 *
 *   content-type, content-encoding, priority, correlation-id, reply-to, expiration, timestamp,
 *   type, user-id, app-id          ↔ the property of the same name
 *   persistent:true                ↔ delivery-mode 2
 *   amqp-message-id                ↔ message-id (on MESSAGE frames `message-id` is the ack id)
 *   any other header               ↔ an entry of the headers table
 *
 * On MESSAGE frames, a `reply-to` that is a plain queue name is shown as /reply-queue/<name>.
 */
import { type FieldTable, type FieldValue, type MessageProperties, TypedValue } from '../../src/codec/index.js';
import { escapeHeader, type StompVersion } from './frame.js';
import { hasDestinationPrefix } from './destinations.js';

/** Headers that belong to the protocol or to the properties, never to the headers table. */
const NOT_USER_HEADERS = new Set([
  'destination',
  'receipt',
  'transaction',
  'content-length',
  'message-id',
  'content-type',
  'content-encoding',
  'persistent',
  'priority',
  'correlation-id',
  'reply-to',
  'expiration',
  'amqp-message-id',
  'timestamp',
  'type',
  'user-id',
  'app-id',
]);

/** Headers a MESSAGE frame sets itself: a headers-table entry of that name is not copied. */
const RESERVED_ON_MESSAGE = new Set([...NOT_USER_HEADERS, 'subscription', 'ack', 'redelivered']);

/**
 * Basic properties for a SEND frame. `replyTo` replaces the `reply-to` header (a temp-queue
 * reference already resolved to its queue).
 */
export function propertiesFromHeaders(h: Record<string, string>, replyTo: string | undefined): MessageProperties {
  const p: MessageProperties = {};
  let v: string | undefined;
  if ((v = h['content-type']) !== undefined) p.contentType = v;
  if ((v = h['content-encoding']) !== undefined) p.contentEncoding = v;
  if (h['persistent'] === 'true' || h['persistent'] === 'True') p.deliveryMode = 2;
  if ((v = h['priority']) !== undefined && /^\d{1,3}$/.test(v)) p.priority = Number(v);
  if ((v = h['correlation-id']) !== undefined) p.correlationId = v;
  if (replyTo !== undefined) p.replyTo = replyTo;
  if ((v = h['expiration']) !== undefined) p.expiration = v;
  // RabbitMQ's name for the property; a plain message-id on SEND is taken too (many clients set one)
  if ((v = h['amqp-message-id'] ?? h['message-id']) !== undefined) p.messageId = v;
  if ((v = h['timestamp']) !== undefined && /^\d{1,15}$/.test(v)) p.timestamp = Number(v);
  if ((v = h['type']) !== undefined) p.type = v;
  if ((v = h['user-id']) !== undefined) p.userId = v;
  if ((v = h['app-id']) !== undefined) p.appId = v;
  let table: FieldTable | undefined;
  for (const name in h) {
    if (NOT_USER_HEADERS.has(name)) continue;
    (table ??= {})[name] = h[name]!;
  }
  if (table) p.headers = table;
  return p;
}

/**
 * The property headers of a MESSAGE frame, escaped for `version`, each ending in LF, in the
 * order RabbitMQ writes them; then the headers table (strings, numbers and booleans — other
 * field types have no STOMP form and are left out).
 */
export function propertyHeaders(p: MessageProperties, version: StompVersion): string {
  let out = '';
  if (p.contentType !== undefined) out += line('content-type', p.contentType, version);
  if (p.contentEncoding !== undefined) out += line('content-encoding', p.contentEncoding, version);
  if (p.deliveryMode === 2) out += 'persistent:true\n';
  if (p.priority !== undefined) out += 'priority:' + p.priority + '\n';
  if (p.correlationId !== undefined) out += line('correlation-id', p.correlationId, version);
  if (p.replyTo !== undefined) {
    out += line('reply-to', hasDestinationPrefix(p.replyTo) ? p.replyTo : '/reply-queue/' + p.replyTo, version);
  }
  if (p.expiration !== undefined) out += line('expiration', p.expiration, version);
  if (p.messageId !== undefined) out += line('amqp-message-id', p.messageId, version);
  if (p.timestamp !== undefined) out += 'timestamp:' + p.timestamp + '\n';
  if (p.type !== undefined) out += line('type', p.type, version);
  if (p.userId !== undefined) out += line('user-id', p.userId, version);
  if (p.appId !== undefined) out += line('app-id', p.appId, version);
  const table = p.headers;
  if (table !== undefined) {
    for (const name in table) {
      if (RESERVED_ON_MESSAGE.has(name)) continue;
      const text = headerText(table[name]!);
      if (text !== null) out += line(name, text, version);
    }
  }
  return out;
}

function line(name: string, value: string, version: StompVersion): string {
  return escapeHeader(name, version) + ':' + escapeHeader(value, version) + '\n';
}

function headerText(v: FieldValue): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    default:
      if (v instanceof TypedValue) {
        const inner = v.value;
        if (typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'bigint') return String(inner);
      }
      if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
      return null;
  }
}
