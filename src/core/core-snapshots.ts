/**
 * The read side of `AdminCore`: the core's state as snapshots (snapshots.ts). A base of the
 * `Core` class, so that core.ts keeps to the core's own work and these reads to one file.
 */
import type { UserRecord, UserStore } from '../auth/users.js';
import type { StoreMetricsSnapshot } from '../store/metrics.js';
import type {
  ConnectionSnapshot,
  ConsumerSnapshot,
  ExchangeSnapshot,
  PermissionSnapshot,
  QueueSnapshot,
  SessionSnapshot,
  TopicPermissionSnapshot,
  VhostSnapshot,
} from './admin-core.js';
import type { Connection } from './connection.js';
import type { ExchangeTypeRegistry } from './exchanges/registry.js';
import type { Limits, UserLimits } from './limits.js';
import type { Policy } from './policies.js';
import type { BindingSnapshot } from './protocol-core.js';
import { bindingSnapshotOf, queueBindingsOf } from './queue-queries.js';
import {
  connectionSnapshotOf,
  consumerSnapshotOf,
  exchangeSnapshotOf,
  queueSnapshotOf,
  sessionSnapshotOf,
  vhostSnapshotOf,
} from './snapshots.js';
import type { VHost } from './vhost.js';

export abstract class CoreSnapshots {
  abstract readonly vhosts: Map<string, VHost>;
  abstract readonly connections: Map<number, Connection>;
  abstract readonly users: UserStore;
  abstract readonly limits: Limits;
  abstract readonly exchangeTypes: ExchangeTypeRegistry;

  vhostNames(): string[] {
    return [...this.vhosts.keys()];
  }

  listVhosts(): VhostSnapshot[] {
    return [...this.vhosts.values()].map((v) => vhostSnapshotOf(v, this.limits.vhost(v.name)));
  }

  getVhost(name: string): VhostSnapshot | undefined {
    const v = this.vhosts.get(name);
    return v ? vhostSnapshotOf(v, this.limits.vhost(name)) : undefined;
  }

  listQueues(vhost?: string): QueueSnapshot[] {
    const out: QueueSnapshot[] = [];
    for (const v of this.#vhostsOf(vhost)) for (const q of v.queues.values()) out.push(queueSnapshotOf(v, q));
    return out;
  }

  getQueue(vhost: string, name: string): QueueSnapshot | undefined {
    const v = this.vhosts.get(vhost);
    const q = v?.queues.get(name);
    return q ? queueSnapshotOf(v!, q) : undefined;
  }

  listExchanges(vhost?: string): ExchangeSnapshot[] {
    const out: ExchangeSnapshot[] = [];
    for (const v of this.#vhostsOf(vhost)) for (const x of v.exchanges.values()) out.push(exchangeSnapshotOf(v, x));
    return out;
  }

  getExchange(vhost: string, name: string): ExchangeSnapshot | undefined {
    const v = this.vhosts.get(vhost);
    const x = v?.exchanges.get(name);
    return x ? exchangeSnapshotOf(v!, x) : undefined;
  }

  listBindings(vhost?: string): BindingSnapshot[] {
    const out: BindingSnapshot[] = [];
    for (const v of this.#vhostsOf(vhost)) {
      for (const x of v.exchanges.values()) {
        if (x.name === '') continue;
        for (const b of x.bindings.values()) out.push(bindingSnapshotOf(v.name, b));
      }
    }
    return out;
  }

  exchangeBindings(vhost: string, name: string, side: 'source' | 'destination'): BindingSnapshot[] {
    const x = this.vhosts.get(vhost)?.exchanges.get(name);
    if (!x) return [];
    const bindings = side === 'source' ? x.bindings.values() : x.inbound;
    return [...bindings].map((b) => bindingSnapshotOf(vhost, b));
  }

  queueBindings(vhost: string, name: string): BindingSnapshot[] {
    return queueBindingsOf(this.vhosts.get(vhost), name);
  }

  listConnections(): ConnectionSnapshot[] {
    const out: ConnectionSnapshot[] = [];
    for (const c of this.connections.values()) if (!c.closed) out.push(connectionSnapshotOf(c));
    return out;
  }

  getConnection(id: number): ConnectionSnapshot | undefined {
    const c = this.connections.get(id);
    return c && !c.closed ? connectionSnapshotOf(c) : undefined;
  }

  listSessions(connectionId?: number): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const c of this.connections.values()) {
      if (c.closed || (connectionId !== undefined && c.id !== connectionId)) continue;
      for (const s of c.sessions) out.push(sessionSnapshotOf(s));
    }
    return out;
  }

  listConsumers(vhost?: string, queue?: string): ConsumerSnapshot[] {
    const out: ConsumerSnapshot[] = [];
    for (const v of this.#vhostsOf(vhost)) {
      for (const q of v.queues.values()) {
        if (queue !== undefined && q.name !== queue) continue;
        for (const c of q.consumers) {
          const s = consumerSnapshotOf(v, q, c);
          if (s) out.push(s);
        }
      }
    }
    return out;
  }

  listPolicies(vhost?: string): Policy[] {
    const out: Policy[] = [];
    for (const v of this.#vhostsOf(vhost)) for (const p of v.policies.values()) out.push({ ...p, definition: { ...p.definition } });
    return out;
  }

  getPolicy(vhost: string, name: string): Policy | undefined {
    const p = this.vhosts.get(vhost)?.policies.get(name);
    return p ? { ...p, definition: { ...p.definition } } : undefined;
  }

  listUsers(): UserRecord[] {
    return this.users.list().map((u) => ({ ...u, tags: [...u.tags] }));
  }

  getUser(name: string): UserRecord | undefined {
    const u = this.users.get(name);
    return u ? { ...u, tags: [...u.tags] } : undefined;
  }

  userLimits(name: string): UserLimits {
    return { ...this.limits.user(name) };
  }

  listPermissions(): PermissionSnapshot[] {
    return this.users.permissions().map((p) => ({ user: p.user, vhost: p.vhost, configure: p.permission.configure, write: p.permission.write, read: p.permission.read }));
  }

  hasPermissions(user: string, vhost: string): boolean {
    return this.users.permission(user, vhost) !== undefined;
  }

  listTopicPermissions(): TopicPermissionSnapshot[] {
    const out: TopicPermissionSnapshot[] = [];
    for (const u of this.users.list()) {
      for (const vhost of this.vhosts.keys()) {
        for (const t of this.users.topicPermissions(u.name, vhost)) out.push({ user: u.name, vhost, exchange: t.exchange, write: t.write, read: t.read });
      }
    }
    return out;
  }

  hasExchangeType(name: string): boolean {
    return this.exchangeTypes.get(name) !== undefined;
  }

  storeMetrics(vhost: string): StoreMetricsSnapshot | null {
    return this.vhosts.get(vhost)?.store?.messages.metrics() ?? null;
  }

  #vhostsOf(vhost: string | undefined): Iterable<VHost> {
    if (vhost === undefined) return this.vhosts.values();
    const v = this.vhosts.get(vhost);
    return v ? [v] : [];
  }
}
