import type { FieldTable } from '../codec/types.js';
import { decodeProperties } from '../codec/basic-properties.js';
import type { Definitions } from '../store/metadata/metadata-store.js';
import { Exchange } from './exchange.js';
import { DelayedPublish } from './exchanges/delayed-publish.js';
import { EMPTY_BODY, Message } from './message.js';
import type { VHost } from './vhost.js';

/**
 * A vhost's durable definitions brought back at start, in the order that keeps them whole:
 * exchanges, then queues (with their stored messages) and delayed exchanges' held messages,
 * then bindings, which need both ends. Policies come first (node-store.ts), so everything
 * returns with its policy in effect. Nothing is written back.
 */
export function restoreDefinitions(vhost: VHost, defs: Definitions): void {
  const name = vhost.name;
  for (const x of defs.exchanges) if (x.vhost === name) restoreExchange(vhost, x.name, x.type, x.autoDelete, x.internal, x.arguments);
  for (const q of defs.queues) {
    if (q.vhost !== name) continue;
    if (q.type === 'delayed') restoreDelayed(vhost, q.name.slice('amq.delayed.'.length), q.id);
    else restoreQueue(vhost, q.id, q.name, q.autoDelete, q.arguments);
  }
  for (const b of defs.bindings) {
    if (b.vhost === name) restoreBinding(vhost, b.source, b.destinationKind, b.destination, b.routingKey, b.arguments);
  }
}

/** Recreate a durable exchange from its saved definition. */
export function restoreExchange(vhost: VHost, name: string, type: string, autoDelete: boolean, internal: boolean, args: FieldTable): void {
  const types = vhost.exchangeTypes;
  const xType = types.get(type);
  if (!xType || vhost.exchanges.has(name)) return;
  vhost.adoptExchange(new Exchange(name, type, { durable: true, autoDelete, internal, arguments: args }, xType.create(args, types)));
}

/** Recreate a durable queue with its journal id, through its type; its stored messages become its backlog. */
export function restoreQueue(vhost: VHost, id: number, name: string, autoDelete: boolean, args: FieldTable): void {
  if (vhost.queues.has(name) || !vhost.store) return;
  vhost.queueTypes.forArguments(args).restore(vhost, id, name, autoDelete, args);
}

/** Recreate a durable binding. */
export function restoreBinding(vhost: VHost, source: string, kind: 'queue' | 'exchange', destination: string, routingKey: string, args: FieldTable): void {
  const x = vhost.exchanges.get(source);
  const dest = kind === 'queue' ? vhost.queues.get(destination) : vhost.exchanges.get(destination);
  if (!x || !dest) return;
  vhost.link(x, dest, routingKey, args);
}

/** Re-arm the held messages of a durable delayed exchange after a restart (overdue ones fire at once). */
export function restoreDelayed(vhost: VHost, exchange: string, storeId: number): void {
  const x = vhost.exchanges.get(exchange);
  const store = vhost.store?.messages;
  if (!x || !store) return;
  x.delayStoreId = storeId;
  x.delaySeq = store.nextSeq(storeId) - 1;
  const count = store.queueLength(storeId);
  if (count === 0) return;
  store.read({ queueId: storeId, afterSeq: 0, maxCount: count }, {
    onMessages: (_token, messages) => {
      for (const sm of messages) {
        const message = new Message(sm.exchange, sm.routingKey, decodeProperties(sm.properties), sm.bodyRef ? EMPTY_BODY : sm.body, sm.properties, sm.publishedAt, sm.bodyRef ?? null);
        vhost.scheduler.schedule(sm.expiresAt, new DelayedPublish(vhost.publisher, x, message, sm.seq));
      }
    },
  }, 0);
}
