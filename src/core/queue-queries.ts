/**
 * Read-only looks at queues and bindings as plain data, for front-ends (`ProtocolCore`) and
 * operators (`AdminCore`): taken when asked, never live objects, so a plugin cannot change
 * the core's state through them.
 */
import type { Binding } from './binding.js';
import type { BindingSnapshot, QueueSummary } from './protocol-core.js';
import type { Queue } from './queues/queue.js';
import type { VHost } from './vhost.js';

export function queueSummaryOf(vhost: string, q: Queue): QueueSummary {
  return {
    name: q.name,
    vhost,
    durable: q.durable,
    exclusive: q.exclusive,
    autoDelete: q.autoDelete,
    arguments: { ...q.arguments },
    messageCount: q.messageCount,
    consumerCount: q.consumerCount,
  };
}

export function bindingSnapshotOf(vhost: string, b: Binding): BindingSnapshot {
  return {
    vhost,
    source: b.source.name,
    destination: b.destination.name,
    destinationType: b.destination.kind,
    routingKey: b.routingKey,
    arguments: { ...b.arguments },
  };
}

/** The bindings leading to queue `name` of `v` (empty for an unknown vhost or queue). */
export function queueBindingsOf(v: VHost | undefined, name: string): BindingSnapshot[] {
  const q = v?.queues.get(name);
  if (!q) return [];
  const out: BindingSnapshot[] = [];
  for (const b of q.inbound) out.push(bindingSnapshotOf(v!.name, b));
  return out;
}
