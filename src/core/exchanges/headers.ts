import type { FieldTable, FieldValue } from '../../codec/types.js';
import { TypedValue } from '../../codec/types.js';
import type { Binding, Destination } from '../binding.js';
import { preconditionFailed } from '../errors.js';
import type { Message } from '../message.js';
import { addDestination, type ExchangeRouter, type ExchangeType } from './exchange-type.js';

type MatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface CompiledBinding {
  binding: Binding;
  all: boolean;
  pairs: [string, FieldValue][];
}

/**
 * Headers exchange (AMQP 0-9-1 §3.1.3.4): routes on the message's headers table against each
 * binding's arguments. `x-match` is `all` (default) or `any`; RabbitMQ's `all-with-x` and
 * `any-with-x` also compare the `x-` arguments that plain all/any ignore. A binding argument
 * with a void value matches on the header's presence alone (RabbitMQ's reading of the spec).
 */
class HeadersRouter implements ExchangeRouter {
  readonly #bindings: CompiledBinding[] = [];

  bind(b: Binding): void {
    this.#bindings.push(compile(b));
  }

  unbind(b: Binding): void {
    const i = this.#bindings.findIndex((c) => c.binding === b);
    if (i >= 0) this.#bindings.splice(i, 1);
  }

  route(message: Message, _routingKey: string, out: Destination[], epoch: number): boolean {
    const headers = message.properties.headers;
    let matched = false;
    for (let i = 0; i < this.#bindings.length; i++) {
      const c = this.#bindings[i];
      if (matches(c, headers)) {
        addDestination(out, c.binding.destination, epoch);
        matched = true;
      }
    }
    return matched;
  }
}

function modeOf(args: FieldTable): MatchMode {
  const match = args['x-match'];
  return match === 'any' || match === 'all-with-x' || match === 'any-with-x' ? match : 'all';
}

function compile(b: Binding): CompiledBinding {
  const mode = modeOf(b.arguments);
  const withX = mode.endsWith('-with-x');
  const pairs: [string, FieldValue][] = [];
  for (const [k, v] of Object.entries(b.arguments)) {
    if (k === 'x-match') continue;
    if (!withX && k.startsWith('x-')) continue;
    pairs.push([k, v]);
  }
  return { binding: b, all: mode === 'all' || mode === 'all-with-x', pairs };
}

function matches(c: CompiledBinding, headers: FieldTable | undefined): boolean {
  const pairs = c.pairs;
  if (c.all) {
    for (let i = 0; i < pairs.length; i++) {
      if (!headers || !matchOne(pairs[i][1], headers, pairs[i][0])) return false;
    }
    return true;
  }
  if (!headers) return false;
  for (let i = 0; i < pairs.length; i++) if (matchOne(pairs[i][1], headers, pairs[i][0])) return true;
  return false;
}

function matchOne(expected: FieldValue, headers: FieldTable, key: string): boolean {
  if (!Object.prototype.hasOwnProperty.call(headers, key)) return false;
  if (expected === null) return true; // void pattern: presence only
  return sameValue(expected, headers[key]);
}

/**
 * RabbitMQ compares header values with Erlang's `==` (rabbit_exchange_type_headers): the wire
 * type does not count, only the value — an int equals a long or a byte of the same number,
 * and a long string equals a byte array of the same bytes (both are binaries there).
 */
function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false; // the common case: no bytes compared
  const na = exactNumber(a);
  if (na !== undefined) {
    const nb = exactNumber(b);
    // == compares a bigint with a bigint or a number by exact value: longs beyond 2^53 (64-bit
    // ids) that round to the same double are different values, as Erlang's == sees them
    return nb !== undefined && na == nb;
  }
  const ba = bytesOf(a);
  if (ba !== undefined) {
    const bb = bytesOf(b);
    return bb !== undefined && ba.equals(bb);
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof TypedValue && b instanceof TypedValue) return a.type === b.type && a.value === b.value;
  return false;
}

/** A numeric value as decoded (a long beyond 2^53 is a bigint), without rounding it to a double. */
function exactNumber(v: FieldValue): number | bigint | undefined {
  const raw = v instanceof TypedValue ? v.value : v;
  return typeof raw === 'number' || typeof raw === 'bigint' ? raw : undefined;
}

/** The bytes of a long string ('S', kept as bytes when not UTF-8) or byte array ('x'). */
function bytesOf(v: FieldValue): Buffer | undefined {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof TypedValue && v.type === 'S' && Buffer.isBuffer(v.value)) return v.value;
  return undefined;
}

export const headersExchange: ExchangeType = {
  name: 'headers',
  create: () => new HeadersRouter(),
  validateBinding(_routingKey, args) {
    const match = args['x-match'];
    if (match !== undefined && match !== 'all' && match !== 'any' && match !== 'all-with-x' && match !== 'any-with-x') {
      throw preconditionFailed(`Invalid x-match field value ${JSON.stringify(match)}; expected all, any, all-with-x, or any-with-x`);
    }
  },
};
