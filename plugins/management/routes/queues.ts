/**
 * /api/queues: list (with depths, rates, consumers, memory), declare (PUT), delete, purge
 * (DELETE …/contents), bindings of one queue, and getting messages (POST …/get), all
 * through a core session of the user. Stream queues are queues of type 'stream' here, as in
 * RabbitMQ's API.
 */
import type { GetResult } from '../../../src/core/index.js';
import { jsonToFieldTable, propertiesToJson } from '../../../src/definitions/index.js';
import { requireVhostAccess } from '../auth.js';
import { bindingJson, consumerJson, defaultBindingJson, queueJson } from '../format.js';
import { badRequest, boolField, created, intField, noContent, notFound, ok, stringField, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import { UserSession } from '../user-session.js';
import { visibleVhostNames } from '../visible.js';

function list(req: ApiRequest, vhost?: string): ApiResponse {
  const s = req.services;
  if (vhost !== undefined) requireVhostAccess(s.admin, req.principal, vhost);
  const items = visibleVhostNames(s, req.principal, vhost).flatMap((v) => s.admin.listQueues(v).map((q) => queueJson(s, q)));
  return listResponse(items, req.query);
}

function lookup(req: ApiRequest) {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const q = s.admin.getQueue(vhost, req.params.name!);
  if (!q) throw notFound();
  return q;
}

function detail(req: ApiRequest): ApiResponse {
  const s = req.services;
  const q = lookup(req);
  const json = queueJson(s, q);
  // the consumers of any client connection (not only those the principal may list), as before
  const connections = new Map(s.admin.listConnections().map((c) => [c.id, c]));
  json.consumer_details = s.admin.listConsumers(q.vhost, q.name).flatMap((c) => {
    const connection = connections.get(c.connectionId);
    return connection ? [consumerJson(s, c, connection)] : [];
  });
  return ok(json);
}

async function declare(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const vhost = req.params.vhost!;
  const name = req.params.name!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const body = await req.body();
  const existed = s.admin.getQueue(vhost, name) !== undefined;
  const args = jsonToFieldTable(body.arguments);
  // newer RabbitMQ clients send the type as a field of its own
  if (typeof body.type === 'string' && args['x-queue-type'] === undefined && body.type !== 'classic') args['x-queue-type'] = body.type;
  await UserSession.run(s.core, req.principal, vhost, (us) =>
    us.session.declareQueue(name, { durable: boolField(body, 'durable', true), autoDelete: boolField(body, 'auto_delete', false), arguments: args }),
  );
  return existed ? noContent() : created();
}

async function remove(req: ApiRequest): Promise<ApiResponse> {
  const q = lookup(req);
  const ifEmpty = req.query.get('if-empty') === 'true';
  const ifUnused = req.query.get('if-unused') === 'true';
  await UserSession.run(req.services.core, req.principal, q.vhost, (us) => us.session.deleteQueue(q.name, ifUnused, ifEmpty));
  return noContent();
}

async function purge(req: ApiRequest): Promise<ApiResponse> {
  const q = lookup(req);
  await UserSession.run(req.services.core, req.principal, q.vhost, (us) => us.session.purgeQueue(q.name));
  return noContent();
}

const ACK_MODES = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * POST /api/queues/{vhost}/{name}/get: take up to `count` messages with manual ack, then
 * settle them all as `ackmode` says — requeued (they come back redelivered, as in
 * RabbitMQ), acked, or rejected (dead-lettered where the queue says so).
 */
async function get(req: ApiRequest): Promise<ApiResponse> {
  const q = lookup(req);
  const body = await req.body();
  const ackmode = stringField(body, 'ackmode');
  if (!ACK_MODES.includes(ackmode)) throw badRequest(`ackmode must be one of ${ACK_MODES.join(', ')}`);
  const encoding = stringField(body, 'encoding', 'auto');
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest("encoding must be 'auto' or 'base64'");
  const count = intField(body, 'count', 1);
  if (count < 1) throw badRequest('count must be positive');
  const truncate = body.truncate === undefined ? -1 : intField(body, 'truncate', -1);
  return UserSession.run(req.services.core, req.principal, q.vhost, (us) => {
    const got: GetResult[] = [];
    for (let i = 0; i < count; i++) {
      const r = us.session.get(q.name, false);
      if (!r) break;
      got.push(r);
    }
    if (got.length > 0) {
      const last = got[got.length - 1]!.deliveryTag;
      if (ackmode === 'ack_requeue_false') us.session.ack(last, true);
      else us.session.nack(last, true, ackmode.endsWith('requeue_true'));
    }
    return ok(got.map((r) => messageJson(r, encoding, truncate)));
  });
}

function messageJson(r: GetResult, encoding: string, truncate: number) {
  const m = r.message;
  const body = truncate >= 0 && m.body.length > truncate ? m.body.subarray(0, truncate) : m.body;
  let payload: string | null = null;
  if (encoding === 'auto') {
    try {
      payload = utf8.decode(body);
    } catch {
      payload = null; // not text: base64
    }
  }
  return {
    // a body kept in the journal (above large_message_threshold) is not read here: its size, no payload
    payload_bytes: m.size,
    redelivered: r.redelivered,
    exchange: m.exchange,
    routing_key: m.routingKey,
    message_count: r.messageCount,
    properties: propertiesToJson(m.properties),
    payload: payload ?? body.toString('base64'),
    payload_encoding: payload === null ? 'base64' : 'string',
  };
}

export const queueRoutes: Route[] = [
  { method: 'GET', path: '/api/queues', handler: (req) => list(req) },
  { method: 'GET', path: '/api/queues/:vhost', handler: (req) => list(req, req.params.vhost) },
  { method: 'GET', path: '/api/queues/:vhost/:name', handler: detail },
  { method: 'PUT', path: '/api/queues/:vhost/:name', handler: declare },
  { method: 'DELETE', path: '/api/queues/:vhost/:name', handler: remove },
  { method: 'DELETE', path: '/api/queues/:vhost/:name/contents', handler: purge },
  { method: 'POST', path: '/api/queues/:vhost/:name/get', handler: get },
  {
    method: 'GET',
    path: '/api/queues/:vhost/:name/bindings',
    handler: (req) => {
      const q = lookup(req);
      const bindings = req.services.admin.queueBindings(q.vhost, q.name);
      return listResponse([defaultBindingJson(q.vhost, q.name), ...bindings.map(bindingJson)], req.query);
    },
  },
];
