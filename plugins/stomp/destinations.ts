/**
 * STOMP destinations as RabbitMQ's STOMP plugin reads and writes them
 * (rabbitmq.com/docs/stomp "Destinations"):
 *
 *   /queue/<name>                  default exchange, queue declared by the plugin
 *   /topic/<routing-key>           amq.topic
 *   /exchange/<name>[/<key>]       any exchange
 *   /amq/queue/<name>              an existing queue, never declared
 *   /temp-queue/<id>               a private reply queue (in `reply-to` headers only)
 *   /reply-queue/<queue>           where a MESSAGE's `reply-to` points: default exchange
 *
 * Names are percent-decoded (`%2F` is a `/` inside a name); on MESSAGE frames `/`, `%`,
 * control and non-ASCII bytes are percent-encoded again.
 */
import { StompError } from './errors.js';

export type Destination =
  | { kind: 'queue'; name: string }
  | { kind: 'topic'; key: string }
  | { kind: 'exchange'; exchange: string; key: string | null }
  | { kind: 'amqqueue'; name: string }
  | { kind: 'temp-queue'; name: string }
  | { kind: 'reply-queue'; name: string };

export const TOPIC_EXCHANGE = 'amq.topic';

const PREFIXES = ['/queue/', '/topic/', '/exchange/', '/amq/queue/', '/temp-queue/', '/reply-queue/'] as const;

/** What a `reply-to` already naming a destination starts with (RabbitMQ leaves those as they are). */
export function hasDestinationPrefix(s: string): boolean {
  for (const p of PREFIXES) if (s.startsWith(p)) return true;
  return false;
}

export function parseDestination(text: string): Destination {
  if (text.startsWith('/queue/')) return { kind: 'queue', name: simple(text, 7) };
  if (text.startsWith('/topic/')) return { kind: 'topic', key: simple(text, 7, true) };
  if (text.startsWith('/amq/queue/')) return { kind: 'amqqueue', name: simple(text, 11) };
  if (text.startsWith('/temp-queue/')) return { kind: 'temp-queue', name: simple(text, 12) };
  // reply queue names may hold slashes: taken as they are (RabbitMQ's parse_destination)
  if (text.startsWith('/reply-queue/') && text.length > 13) return { kind: 'reply-queue', name: text.slice(13) };
  if (text.startsWith('/exchange/')) {
    const parts = text.slice(10).split('/');
    // the default exchange cannot be named this way: it means different things for SEND and SUBSCRIBE
    if (parts[0] === '' || parts.length > 2) throw invalid(text);
    return { kind: 'exchange', exchange: decode(parts[0]!), key: parts.length === 2 ? decode(parts[1]!) : null };
  }
  throw new StompError('Unknown destination', `'${text}' is not a valid destination: use /queue/, /topic/, /exchange/, /amq/queue/ or /temp-queue/`);
}

function simple(text: string, from: number, allowEmpty = false): string {
  const rest = text.slice(from);
  if (rest.indexOf('/') !== -1 || (rest === '' && !allowEmpty)) throw invalid(text);
  return decode(rest);
}

function invalid(text: string): StompError {
  return new StompError('Invalid destination', `'${text}' is not a valid destination (a '/' inside a name is written %2F)`);
}

function decode(part: string): string {
  if (part.indexOf('%') === -1) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray '%' stays literal
  }
}

const NEEDS_ENCODING = /[/%\x00-\x1f\u0080-\uffff]/;

/** RabbitMQ's escape_dest: `/`, `%`, bytes below 32 and above 127 as %XX (upper-case hex, per UTF-8 byte). */
export function encodeDestinationPart(s: string): string {
  if (!NEEDS_ENCODING.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x2f || byte === 0x25 || byte < 32 || byte > 127) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    else out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * The `destination` of a MESSAGE frame, as if the message had come from a SEND: default
 * exchange → /queue/<key>, amq.topic → /topic/<key>, else /exchange/<name>[/<key>].
 */
export function formatDestination(exchange: string, routingKey: string): string {
  if (exchange === '') return '/queue/' + encodeDestinationPart(routingKey);
  if (exchange === TOPIC_EXCHANGE) return '/topic/' + encodeDestinationPart(routingKey);
  if (routingKey === '') return '/exchange/' + encodeDestinationPart(exchange);
  return '/exchange/' + encodeDestinationPart(exchange) + '/' + encodeDestinationPart(routingKey);
}

/** Where a SEND to `d` goes. */
export function publishTarget(d: Destination): { exchange: string; routingKey: string } {
  switch (d.kind) {
    case 'queue':
    case 'amqqueue':
    case 'reply-queue':
      return { exchange: '', routingKey: d.name };
    case 'topic':
      return { exchange: TOPIC_EXCHANGE, routingKey: d.key };
    case 'exchange':
      return { exchange: d.exchange, routingKey: d.key ?? '' };
    case 'temp-queue':
      throw new StompError('Invalid destination', 'messages cannot be sent to /temp-queue destinations: use the reply-to of the MESSAGE you answer');
  }
}
