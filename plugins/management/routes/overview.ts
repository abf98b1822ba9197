/**
 * Node-level endpoints: /api/overview, /api/nodes, /api/whoami, /api/extensions, health
 * checks (/api/health/checks/alarms …) and /api/aliveness-test/{vhost}.
 */
import { availableParallelism, totalmem } from 'node:os';
import { statfsSync } from 'node:fs';
import { Message } from '../../../src/core/index.js';
import { requireVhostAccess } from '../auth.js';
import { notFound, ok, type ApiRequest, type ApiResponse } from '../http.js';
import type { Route } from '../router.js';
import { DEPTH_KEYS, RATE_KEYS, zeroCounters, type DepthKey } from '../sampler.js';
import { messageStats } from '../format.js';
import { listenersJson } from '../listeners.js';
import type { ManagementServices } from '../services.js';
import { UserSession } from '../user-session.js';
import { visibleConnections, visibleVhosts } from '../visible.js';

const EXCHANGE_TYPES: [string, string][] = [
  ['direct', 'AMQP direct exchange, as per the AMQP specification'],
  ['fanout', 'AMQP fanout exchange, as per the AMQP specification'],
  ['headers', 'AMQP headers exchange, as per the AMQP specification'],
  ['topic', 'AMQP topic exchange, as per the AMQP specification'],
  ['x-delayed-message', 'Delayed message exchange (as rabbitmq_delayed_message_exchange)'],
  ['x-partition-hash', "Partitions by murmur2 of the key, as Kafka's default partitioner (Warren)"],
];

export function exchangeTypes(s: ManagementServices) {
  return EXCHANGE_TYPES.filter(([name]) => s.admin.hasExchangeType(name)).map(([name, description]) => ({ name, description, enabled: true }));
}

function overview(req: ApiRequest): ApiResponse {
  const s = req.services;
  const p = req.principal;
  const vhosts = visibleVhosts(s, p);
  const connections = visibleConnections(s, p);
  let queues = 0;
  let exchanges = 0;
  let consumers = 0;
  const depths: Record<DepthKey, number> = { messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
  const depthRates: Record<DepthKey, number> = { messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
  const counters = zeroCounters();
  const rates = zeroCounters();
  for (const v of vhosts) {
    queues += v.queues;
    exchanges += v.exchanges;
    for (const q of s.admin.listQueues(v.name)) {
      consumers += q.consumerCount;
      const sample = s.sampler.queue(q);
      depths.messages += q.messagesReady + q.messagesUnacknowledged;
      depths.messages_ready += q.messagesReady;
      depths.messages_unacknowledged += q.messagesUnacknowledged;
      for (const k of DEPTH_KEYS) depthRates[k] += sample.depthRates[k];
    }
    const t = s.sampler.vhost(v.name);
    for (const k of RATE_KEYS) {
      counters[k] += t.counters[k];
      rates[k] += t.rates[k];
    }
  }
  const queueTotals: Record<string, unknown> = {};
  for (const k of DEPTH_KEYS) {
    queueTotals[k] = depths[k];
    queueTotals[`${k}_details`] = { rate: Math.round(depthRates[k] * 100) / 100 };
  }
  let channels = 0;
  for (const c of connections) channels += c.sessions;
  return ok({
    management_version: s.version,
    product_name: 'Warren',
    product_version: s.version,
    rates_mode: 'basic',
    statistics_interval_ms: s.sampler.intervalMs,
    exchange_types: exchangeTypes(s),
    cluster_name: s.nodeName,
    node: s.nodeName,
    node_uptime_ms: Date.now() - s.startedAt,
    message_stats: messageStats(counters, rates),
    queue_totals: queueTotals,
    object_totals: { connections: connections.length, channels, consumers, exchanges, queues, vhosts: vhosts.length },
    connections_by_protocol: countBy(connections.map((c) => c.protocol)),
    alarms: s.admin.alarms.active,
    listeners: listenersJson(s.nodeName, s.listeners()),
    // Warren: the node's recent samples (rates and depths), for charts that start filled; node-wide, so monitors only
    ...(req.query.get('history') === 'true' && p.isMonitor ? { history: historyJson(s) } : {}),
  });
}

function historyJson(s: ManagementServices) {
  return s.sampler.history.map((h) => ({ at: h.at, ...roundAll(h.rates), ...h.depths }));
}

function roundAll(rates: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rates)) out[`${k}_rate`] = Math.round(v * 100) / 100;
  return out;
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

export function nodeJson(s: ManagementServices) {
  const admin = s.admin;
  let diskFree: number | null = null;
  try {
    const fs = statfsSync(admin.alarms.dataDir ?? process.cwd());
    diskFree = fs.bavail * fs.bsize;
  } catch {
    diskFree = null;
  }
  const mem = process.memoryUsage();
  let connections = 0;
  for (const c of admin.listConnections()) if (c.protocol !== 'management') connections++;
  return {
    name: s.nodeName,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    uptime: Date.now() - s.startedAt,
    processors: availableParallelism(),
    mem_used: mem.rss,
    mem_limit: admin.alarms.memoryLimitBytes,
    mem_alarm: admin.alarms.active.includes('memory'),
    mem_heap_used: mem.heapUsed,
    mem_total: totalmem(),
    disk_free: diskFree,
    disk_free_limit: admin.alarms.settings.diskFreeLimit,
    disk_free_alarm: admin.alarms.active.includes('disk'),
    sockets_used: connections,
    rates_mode: 'basic',
    exchange_types: exchangeTypes(s),
    partitions: [],
    node_version: process.version,
    event_loop_lag_p99_seconds: s.sampler.lag.p99Seconds,
  };
}

/** RabbitMQ's GET /api/health/checks/alarms: 200 ok, or 503 with the alarms in effect. */
function alarmsCheck(req: ApiRequest): ApiResponse {
  const s = req.services;
  const active = s.admin.alarms.active;
  if (active.length === 0) return ok({ status: 'ok' });
  return {
    status: 503,
    body: { status: 'failed', reason: 'resource alarm(s) in effect in the cluster', alarms: active.map((resource) => ({ node: s.nodeName, resource })) },
  };
}

/**
 * GET /api/aliveness-test/{vhost}: declare a queue, publish a message to it and get it back
 * through the normal paths, as the user. The queue is deleted afterwards (RabbitMQ leaves it).
 */
async function aliveness(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const queue = 'aliveness-test';
  return UserSession.run(s.core, req.principal, vhost, async (us) => {
    us.session.declareQueue(queue, { durable: false });
    await us.publish(new Message('', queue, {}, Buffer.from('test_message')));
    const got = us.session.get(queue, true);
    us.session.deleteQueue(queue, false, false);
    if (got?.message.body.toString() !== 'test_message') {
      return { status: 503, body: { status: 'failed', reason: 'the test message did not come back' } };
    }
    return ok({ status: 'ok' });
  });
}

export const overviewRoutes: Route[] = [
  { method: 'GET', path: '/api/overview', handler: overview },
  { method: 'GET', path: '/api/cluster-name', handler: (req) => ok({ name: req.services.nodeName }) },
  { method: 'GET', path: '/api/nodes', need: 'monitoring', handler: (req) => ok([nodeJson(req.services)]) },
  {
    method: 'GET',
    path: '/api/nodes/:node',
    need: 'monitoring',
    handler: (req) => {
      if (req.params.node !== req.services.nodeName) throw notFound();
      return ok(nodeJson(req.services));
    },
  },
  { method: 'GET', path: '/api/whoami', handler: (req) => ok({ name: req.principal.user, tags: [...req.principal.tags] }) },
  { method: 'GET', path: '/api/extensions', handler: () => ok([]) },
  { method: 'GET', path: '/api/health/checks/alarms', handler: alarmsCheck },
  { method: 'GET', path: '/api/health/checks/local-alarms', handler: alarmsCheck },
  {
    method: 'GET',
    path: '/api/health/checks/virtual-hosts',
    handler: () => ok({ status: 'ok' }), // every vhost of a running Warren is up: a vhost has no separate supervisor to fail
  },
  { method: 'GET', path: '/api/aliveness-test/:vhost', handler: aliveness },
  {
    method: 'GET',
    path: '/api/health/checks/port-listener/:port',
    handler: (req) => {
      const port = Number(req.params.port);
      if (req.services.listeners().some((l) => l.port === port)) return ok({ status: 'ok', port });
      return { status: 503, body: { status: 'failed', reason: `no listener on port ${port} known to management` } };
    },
  },
];
