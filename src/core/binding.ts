import type { FieldTable } from '../codec/types.js';
import type { Exchange } from './exchange.js';
import type { Queue } from './queues/queue.js';
import { flatString } from '../util/flat-string.js';

/** Where a binding leads: a queue, or another exchange (exchange-to-exchange bindings). */
export type Destination = Queue | Exchange;

export interface Binding {
  readonly source: Exchange;
  readonly destination: Destination;
  readonly routingKey: string;
  readonly arguments: FieldTable;
  /** identity within the source exchange: destination, routing key and arguments */
  readonly key: string;
}

/** (flat: it is kept as long as the binding, src/util/flat-string.ts) */
export function bindingKey(destination: Destination, routingKey: string, args: FieldTable | undefined): string {
  return flatString(`${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${tableKey(args)}`);
}

/** A stable text form of a field table: binding identity includes its arguments (as in RabbitMQ). */
export function tableKey(args: FieldTable | undefined): string {
  if (!args) return '';
  const keys = Object.keys(args);
  if (keys.length === 0) return '';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, args[k]]), (_k, v) =>
    typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('base64') : v,
  );
}
