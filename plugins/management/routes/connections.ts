/**
 * Client connections, their channels and consumers: /api/connections (and closing one),
 * /api/channels, /api/consumers, also per vhost. Every protocol's connections are listed,
 * with the protocol shown ('AMQP 0-9-1', 'MQTT 3.1.1', 'STOMP 1.2').
 */
import type { ConnectionSnapshot } from '../../../src/core/index.js';
import { requireVhostAccess, type Principal } from '../auth.js';
import { channelJson, connectionJson, connectionName, consumerJson } from '../format.js';
import { noContent, notAuthorised, notFound, type ApiRequest } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import type { ManagementServices } from '../services.js';
import { visibleConnections, visibleVhostNames } from '../visible.js';

function findConnection(s: ManagementServices, p: Principal, name: string): ConnectionSnapshot {
  const c = visibleConnections(s, p).find((x) => connectionName(x) === name);
  if (!c) throw notFound();
  return c;
}

function channelsOf(s: ManagementServices, connections: ConnectionSnapshot[]) {
  const byId = new Map(connections.map((c) => [c.id, c]));
  const out: Record<string, unknown>[] = [];
  for (const ch of s.admin.listSessions()) {
    const c = byId.get(ch.connectionId);
    if (c) out.push(channelJson(s, c, ch));
  }
  return out;
}

function consumers(s: ManagementServices, p: Principal, vhost?: string) {
  const out: Record<string, unknown>[] = [];
  const visible = new Map(visibleConnections(s, p, vhost).map((c) => [c.id, c]));
  for (const v of visibleVhostNames(s, p, vhost)) {
    for (const consumer of s.admin.listConsumers(v)) {
      const c = visible.get(consumer.connectionId);
      if (c) out.push(consumerJson(s, consumer, c));
    }
  }
  return out;
}

/** DELETE /api/connections/{name}: the front-end tells its client (AMQP 320 CONNECTION_FORCED with the reason). */
function closeConnection(req: ApiRequest) {
  const s = req.services;
  const c = findConnection(s, req.principal, req.params.name!);
  if (c.user !== req.principal.user && !req.principal.isAdmin) throw notAuthorised('Not administrator user');
  // RabbitMQ takes the reason in an X-Reason header; ?reason= is Warren's spelling for text a header cannot carry
  const header = req.headers['x-reason'];
  const reason = req.query.get('reason') || (Array.isArray(header) ? header[0] : header) || 'Closed via management plugin';
  s.admin.closeConnection(c.id, reason);
  s.log.info('connection closed via management', { connection: connectionName(c), by: req.principal.user, reason });
  return noContent();
}

export const connectionRoutes: Route[] = [
  { method: 'GET', path: '/api/connections', handler: (req) => listResponse(visibleConnections(req.services, req.principal).map((c) => connectionJson(req.services, c)), req.query) },
  { method: 'GET', path: '/api/connections/:name', handler: (req) => ({ status: 200, body: connectionJson(req.services, findConnection(req.services, req.principal, req.params.name!)) }) },
  { method: 'DELETE', path: '/api/connections/:name', handler: closeConnection },
  {
    method: 'GET',
    path: '/api/connections/:name/channels',
    handler: (req) => listResponse(channelsOf(req.services, [findConnection(req.services, req.principal, req.params.name!)]), req.query),
  },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/connections',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      return listResponse(visibleConnections(req.services, req.principal, req.params.vhost).map((c) => connectionJson(req.services, c)), req.query);
    },
  },
  { method: 'GET', path: '/api/channels', handler: (req) => listResponse(channelsOf(req.services, visibleConnections(req.services, req.principal)), req.query) },
  {
    method: 'GET',
    path: '/api/channels/:name',
    handler: (req) => {
      const found = channelsOf(req.services, visibleConnections(req.services, req.principal)).find((ch) => ch.name === req.params.name);
      if (!found) throw notFound();
      return { status: 200, body: found };
    },
  },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/channels',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      return listResponse(channelsOf(req.services, visibleConnections(req.services, req.principal, req.params.vhost)), req.query);
    },
  },
  { method: 'GET', path: '/api/consumers', handler: (req) => listResponse(consumers(req.services, req.principal), req.query) },
  {
    method: 'GET',
    path: '/api/consumers/:vhost',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      return listResponse(consumers(req.services, req.principal, req.params.vhost), req.query);
    },
  },
];
