/**
 * The broker's definitions in RabbitMQ's format (GET /api/definitions, `warren ctl
 * export_definitions`): what `POST /api/definitions` or RabbitMQ's own import reads back.
 * Left out, as RabbitMQ leaves them out: exclusive queues, the default and `amq.*`
 * exchanges, and bindings from the default exchange.
 */
import type { Core } from '../core/core.js';
import type { VHost } from '../core/vhost.js';
import { fieldTableToJson, type Json } from './json-values.js';
import { hashingAlgorithmOf, type RabbitBinding, type RabbitDefinitions, type RabbitExchange, type RabbitPolicy, type RabbitQueue } from './rabbit-format.js';

export function exportDefinitions(core: Core, productVersion: string): RabbitDefinitions {
  const vhosts = [...core.vhosts.values()];
  const limits = core.limits;
  return {
    product_name: 'Warren',
    product_version: productVersion,
    users: core.users.list().map((u) => ({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: hashingAlgorithmOf(u.passwordHash),
      tags: [...u.tags],
      limits: userLimits(limits.user(u.name)),
    })),
    vhosts: vhosts.map((v) => ({
      name: v.name,
      description: typeof v.metadata.description === 'string' ? v.metadata.description : '',
      tags: Array.isArray(v.metadata.tags) ? (v.metadata.tags as string[]) : [],
      metadata: { description: typeof v.metadata.description === 'string' ? v.metadata.description : '', tags: Array.isArray(v.metadata.tags) ? (v.metadata.tags as string[]) : [] },
    })),
    permissions: core.users.permissions().map((p) => ({
      user: p.user,
      vhost: p.vhost,
      configure: p.permission.configure,
      write: p.permission.write,
      read: p.permission.read,
    })),
    topic_permissions: core.users.list().flatMap((u) =>
      vhosts.flatMap((v) => core.users.topicPermissions(u.name, v.name).map((t) => ({ user: u.name, vhost: v.name, exchange: t.exchange, write: t.write, read: t.read }))),
    ),
    parameters: vhosts.flatMap((v) => {
      const value = vhostLimits(limits.vhost(v.name));
      return Object.keys(value).length === 0 ? [] : [{ vhost: v.name, component: 'vhost-limits', name: 'limits', value }];
    }),
    global_parameters: [],
    policies: vhosts.flatMap((v) => policiesOf(v, true)),
    queues: vhosts.flatMap((v) => queuesOf(v, true)),
    exchanges: vhosts.flatMap((v) => exchangesOf(v, true)),
    bindings: vhosts.flatMap((v) => bindingsOf(v, true)),
  };
}

/** One vhost's definitions, without vhost fields (GET /api/definitions/{vhost}). */
export function exportVhostDefinitions(vhost: VHost, productVersion: string): RabbitDefinitions {
  return {
    product_name: 'Warren',
    product_version: productVersion,
    parameters: [],
    policies: policiesOf(vhost, false),
    queues: queuesOf(vhost, false),
    exchanges: exchangesOf(vhost, false),
    bindings: bindingsOf(vhost, false),
  };
}

function policiesOf(v: VHost, withVhost: boolean): RabbitPolicy[] {
  return [...v.policies.values()].map((p) => ({
    ...(withVhost ? { vhost: v.name } : {}),
    name: p.name,
    pattern: p.pattern,
    'apply-to': p.applyTo,
    definition: fieldTableToJson(p.definition),
    priority: p.priority,
  }));
}

function queuesOf(v: VHost, withVhost: boolean): RabbitQueue[] {
  const out: RabbitQueue[] = [];
  for (const q of v.queues.values()) {
    if (q.exclusive) continue;
    out.push({
      name: q.name,
      ...(withVhost ? { vhost: v.name } : {}),
      durable: q.durable,
      auto_delete: q.autoDelete,
      arguments: fieldTableToJson(q.arguments),
    });
  }
  return out;
}

function exchangesOf(v: VHost, withVhost: boolean): RabbitExchange[] {
  const out: RabbitExchange[] = [];
  for (const x of v.exchanges.values()) {
    if (x.name === '' || x.name.startsWith('amq.')) continue;
    out.push({
      name: x.name,
      ...(withVhost ? { vhost: v.name } : {}),
      type: x.type,
      durable: x.durable,
      auto_delete: x.autoDelete,
      internal: x.internal,
      arguments: fieldTableToJson(x.arguments),
    });
  }
  return out;
}

function bindingsOf(v: VHost, withVhost: boolean): RabbitBinding[] {
  const out: RabbitBinding[] = [];
  for (const x of v.exchanges.values()) {
    if (x.name === '') continue;
    for (const b of x.bindings.values()) {
      if (b.destination.kind === 'queue' && b.destination.exclusive) continue;
      out.push({
        source: x.name,
        ...(withVhost ? { vhost: v.name } : {}),
        destination: b.destination.name,
        destination_type: b.destination.kind,
        routing_key: b.routingKey,
        arguments: fieldTableToJson(b.arguments),
      });
    }
  }
  return out;
}

function vhostLimits(l: { maxConnections: number; maxQueues: number }): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (l.maxConnections >= 0) out['max-connections'] = l.maxConnections;
  if (l.maxQueues >= 0) out['max-queues'] = l.maxQueues;
  return out;
}

function userLimits(l: { maxConnections: number; maxChannels: number }): Record<string, number> {
  const out: Record<string, number> = {};
  if (l.maxConnections >= 0) out['max-connections'] = l.maxConnections;
  if (l.maxChannels >= 0) out['max-channels'] = l.maxChannels;
  return out;
}
