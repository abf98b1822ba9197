/**
 * /api/vhosts (list, get, create with metadata, delete) and /api/vhost-limits. Creating a
 * vhost grants the creating user full permissions on it, as RabbitMQ's API does.
 */
import type { VhostSnapshot } from '../../../src/core/index.js';
import { tagList } from '../../../src/definitions/index.js';
import { canSeeVhost, requireVhostAccess } from '../auth.js';
import { messageStats } from '../format.js';
import { badRequest, created, noContent, notFound, ok, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import type { ManagementServices } from '../services.js';
import { visibleVhosts } from '../visible.js';

export function vhostJson(s: ManagementServices, v: VhostSnapshot) {
  const ready = v.messagesReady;
  const unacked = v.messagesUnacknowledged;
  const totals = s.sampler.vhost(v.name);
  const description = typeof v.metadata.description === 'string' ? v.metadata.description : '';
  const tags = Array.isArray(v.metadata.tags) ? v.metadata.tags : [];
  const defaultQueueType = typeof v.metadata.default_queue_type === 'string' ? v.metadata.default_queue_type : 'undefined';
  return {
    name: v.name,
    description,
    tags,
    default_queue_type: defaultQueueType,
    metadata: { description, tags },
    tracing: false,
    cluster_state: { [s.nodeName]: 'running' },
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    message_stats: messageStats(totals.counters, totals.rates),
  };
}

async function putVhost(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const name = req.params.vhost!;
  const body = await req.body();
  const existing = s.admin.getVhost(name);
  const existed = existing !== undefined;
  const metadata: Record<string, unknown> = existing ? { ...existing.metadata } : {};
  if (typeof body.description === 'string') metadata.description = body.description;
  if (body.tags !== undefined) metadata.tags = tagList(body.tags as string[] | string);
  if (typeof body.default_queue_type === 'string') metadata.default_queue_type = body.default_queue_type;
  await s.admin.createVhost(name, metadata);
  if (!existed) s.admin.setPermissions(req.principal.user, name, { configure: '.*', write: '.*', read: '.*' });
  return existed ? noContent() : created();
}

async function deleteVhost(req: ApiRequest): Promise<ApiResponse> {
  if (!(await req.services.admin.deleteVhost(req.params.vhost!))) throw notFound();
  return noContent();
}

const LIMIT_NAMES: Record<string, 'maxConnections' | 'maxQueues'> = { 'max-connections': 'maxConnections', 'max-queues': 'maxQueues' };

function limitsJson(vhosts: VhostSnapshot[]) {
  const out: { vhost: string; value: Record<string, number> }[] = [];
  for (const v of vhosts) {
    const l = v.limits;
    const value: Record<string, number> = {};
    if (l.maxConnections >= 0) value['max-connections'] = l.maxConnections;
    if (l.maxQueues >= 0) value['max-queues'] = l.maxQueues;
    if (Object.keys(value).length > 0) out.push({ vhost: v.name, value });
  }
  return out;
}

async function putLimit(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  requireVhostAccess(s.admin, req.principal, req.params.vhost!);
  const key = LIMIT_NAMES[req.params.name!];
  if (!key) throw badRequest(`unknown limit '${req.params.name}': max-connections or max-queues`);
  const value = Number((await req.body()).value);
  if (!Number.isInteger(value) || value < -1) throw badRequest('value must be an integer ≥ -1 (-1: no limit)');
  s.admin.setVhostLimits(req.params.vhost!, { [key]: value });
  return noContent();
}

export const vhostRoutes: Route[] = [
  { method: 'GET', path: '/api/vhosts', handler: (req) => listResponse(visibleVhosts(req.services, req.principal).map((v) => vhostJson(req.services, v)), req.query) },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost',
    handler: (req) => {
      const v = req.services.admin.getVhost(req.params.vhost!);
      if (!v || !canSeeVhost(req.services.admin, req.principal, v.name)) throw notFound();
      return ok(vhostJson(req.services, v));
    },
  },
  { method: 'PUT', path: '/api/vhosts/:vhost', need: 'administrator', handler: putVhost },
  { method: 'DELETE', path: '/api/vhosts/:vhost', need: 'administrator', handler: deleteVhost },
  { method: 'GET', path: '/api/vhost-limits', need: 'monitoring', handler: (req) => ok(limitsJson(req.services.admin.listVhosts())) },
  {
    method: 'GET',
    path: '/api/vhost-limits/:vhost',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      return ok(limitsJson([req.services.admin.getVhost(req.params.vhost!)!]));
    },
  },
  { method: 'PUT', path: '/api/vhost-limits/:vhost/:name', need: 'administrator', handler: putLimit },
  {
    method: 'DELETE',
    path: '/api/vhost-limits/:vhost/:name',
    need: 'administrator',
    handler: (req) => {
      const key = LIMIT_NAMES[req.params.name!];
      if (!key) throw notFound();
      if (!req.services.admin.hasVhost(req.params.vhost!)) throw notFound();
      req.services.admin.setVhostLimits(req.params.vhost!, { [key]: -1 });
      return noContent();
    },
  },
];
