import { TypedValue, type FieldTable, type FieldValue } from '../../codec/types.js';
import { preconditionFailed } from '../errors.js';
import type { Message } from '../message.js';

/**
 * RabbitMQ's sender-selected distribution: the `CC` and `BCC` headers, arrays of routing
 * keys, route the message as if published with each key too. Only the string members count;
 * a header that is not an array refuses the publish (rabbit_basic header_routes:
 * `{unacceptable_type_in_header, Header, Type}`, a channel error 406).
 */
export function senderSelectedKeys(headers: FieldTable): string[] {
  const keys: string[] = [];
  for (const name of ['CC', 'BCC'] as const) {
    const h = headers[name];
    if (h === undefined) continue;
    if (!Array.isArray(h)) throw preconditionFailed(`invalid message: {unacceptable_type_in_header,"${name}",${amqpTypeName(h)}}`);
    for (const k of h) if (typeof k === 'string') keys.push(k);
  }
  return keys;
}

/** The message consumers see: BCC keys route but are never shown. */
export function withoutBcc(message: Message): Message {
  const headers = { ...message.properties.headers };
  delete headers.BCC;
  return message.withProperties({ ...message.properties, headers });
}

/** RabbitMQ's name for a field value's AMQP type (rabbit_binary_parser), as its errors print it. */
function amqpTypeName(v: FieldValue): string {
  if (v instanceof TypedValue) return TAG_NAMES[v.type] ?? v.type;
  switch (typeof v) {
    case 'string':
      return 'longstr';
    case 'number':
      return Number.isInteger(v) ? (v >= -0x80000000 && v <= 0x7fffffff ? 'signedint' : 'long') : 'double';
    case 'bigint':
      return 'long';
    case 'boolean':
      return 'bool';
  }
  if (v === null) return 'void';
  if (Buffer.isBuffer(v)) return 'binary';
  if (v instanceof Date) return 'timestamp';
  return 'table';
}

const TAG_NAMES: Record<string, string> = {
  t: 'bool',
  b: 'byte',
  B: 'unsignedbyte',
  s: 'short',
  u: 'unsignedshort',
  I: 'signedint',
  i: 'unsignedint',
  l: 'long',
  f: 'float',
  d: 'double',
  D: 'decimal',
  T: 'timestamp',
  S: 'longstr',
};
