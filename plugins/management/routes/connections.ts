/**
 * Client connections, their channels and consumers: /api/connections (and closing one),
 * /api/channels, /api/consumers, also per vhost. Every protocol's connections are listed,
 * with the protocol shown ('AMQP 0-9-1', 'MQTT 3.1.1', 'STOMP 1.2').
 */
import type { Connection } from '../../../src/core/connection.js';
import type { CoreSession } from '../../../src/core/session.js';
import { requireVhostAccess, type Principal } from '../auth.js';
import { channelJson, connectionJson, connectionName, consumerJson } from '../format.js';
import { noContent, notAuthorised, notFound, type ApiRequest } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import type { ManagementServices } from '../services.js';
import { visibleConnections, visibleVhosts } from '../visible.js';

function findConnection(s: ManagementServices, p: Principal, name: string): Connection {
  const c = visibleConnections(s, p).find((x) => connectionName(x) === name);
  if (!c) throw notFound();
  return c;
}

function channelsOf(s: ManagementServices, connections: Connection[]) {
  return connections.flatMap((c) => [...c.sessions].map((ch) => channelJson(s, c, ch)));
}

function consumers(s: ManagementServices, p: Principal, vhost?: string) {
  const out: Record<string, unknown>[] = [];
  const visible = new Set(visibleConnections(s, p, vhost));
  for (const v of visibleVhosts(s, p)) {
    if (vhost !== undefined && v.name !== vhost) continue;
    for (const q of v.queues.values()) {
      for (const c of q.consumers) {
        const json = consumerJson(s, v, q, c);
        if (json && visible.has((c.session as CoreSession).connection)) out.push(json);
      }
    }
  }
  return out;
}

/** DELETE /api/connections/{name}: the front-end tells its client (AMQP 320 CONNECTION_FORCED with the reason). */
function closeConnection(req: ApiRequest) {
  const s = req.services;
  const c = findConnection(s, req.principal, req.params.name!);
  if (c.info.user !== req.principal.user && !req.principal.isAdmin) throw notAuthorised('Not administrator user');
  // RabbitMQ takes the reason in an X-Reason header; ?reason= is Warren's spelling for text a header cannot carry
  const header = req.headers['x-reason'];
  const reason = req.query.get('reason') || (Array.isArray(header) ? header[0] : header) || 'Closed via management plugin';
  s.core.closeConnection(c.id, reason);
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
      requireVhostAccess(req.services.core, req.principal, req.params.vhost!);
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
      requireVhostAccess(req.services.core, req.principal, req.params.vhost!);
      return listResponse(channelsOf(req.services, visibleConnections(req.services, req.principal, req.params.vhost)), req.query);
    },
  },
  { method: 'GET', path: '/api/consumers', handler: (req) => listResponse(consumers(req.services, req.principal), req.query) },
  {
    method: 'GET',
    path: '/api/consumers/:vhost',
    handler: (req) => {
      requireVhostAccess(req.services.core, req.principal, req.params.vhost!);
      return listResponse(consumers(req.services, req.principal, req.params.vhost), req.query);
    },
  },
];
