/**
 * /api/exchanges: list, declare (PUT), delete, bindings from and to one, and publishing a
 * message (POST …/publish), all through a core session of the user. The default exchange
 * is `amq.default` in URLs, as in RabbitMQ's API.
 */
import { Message, validateExpiration } from '../../../src/core/index.js';
import { jsonToFieldTable, propertiesFromJson } from '../../../src/definitions/index.js';
import { requireVhostAccess } from '../auth.js';
import { bindingJson, exchangeJson } from '../format.js';
import { badRequest, boolField, created, noContent, notFound, ok, stringField, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import { UserSession } from '../user-session.js';
import { visibleVhostNames } from '../visible.js';

/** `amq.default` in a URL is the default exchange, whose name is empty. */
export const exchangeParam = (name: string) => (name === 'amq.default' ? '' : name);

function list(req: ApiRequest, vhost?: string): ApiResponse {
  const s = req.services;
  if (vhost !== undefined) requireVhostAccess(s.admin, req.principal, vhost);
  const items = visibleVhostNames(s, req.principal, vhost).flatMap((v) => s.admin.listExchanges(v).map((x) => exchangeJson(s, x)));
  return listResponse(items, req.query);
}

function lookup(req: ApiRequest) {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const x = s.admin.getExchange(vhost, exchangeParam(req.params.name!));
  if (!x) throw notFound();
  return x;
}

async function declare(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const vhost = req.params.vhost!;
  const name = exchangeParam(req.params.name!);
  requireVhostAccess(s.admin, req.principal, vhost);
  const body = await req.body();
  const type = stringField(body, 'type');
  const existed = s.admin.getExchange(vhost, name) !== undefined;
  await UserSession.run(s.core, req.principal, vhost, (us) =>
    us.session.declareExchange(name, type, {
      durable: boolField(body, 'durable', true),
      autoDelete: boolField(body, 'auto_delete', false),
      internal: boolField(body, 'internal', false),
      arguments: jsonToFieldTable(body.arguments),
    }),
  );
  return existed ? noContent() : created();
}

async function remove(req: ApiRequest): Promise<ApiResponse> {
  const x = lookup(req);
  await UserSession.run(req.services.core, req.principal, x.vhost, (us) => us.session.deleteExchange(x.name, req.query.get('if-unused') === 'true'));
  return noContent();
}

/** POST /api/exchanges/{vhost}/{name}/publish → {"routed": bool} */
async function publish(req: ApiRequest): Promise<ApiResponse> {
  const x = lookup(req);
  const body = await req.body();
  const missing = ['properties', 'routing_key', 'payload', 'payload_encoding'].filter((k) => body[k] === undefined);
  if (missing.length > 0) throw badRequest(`[${missing.map((k) => `{key_missing,${k}}`).join(',')}]`);
  const routingKey = stringField(body, 'routing_key');
  const payload = stringField(body, 'payload');
  const encoding = stringField(body, 'payload_encoding');
  if (encoding !== 'string' && encoding !== 'base64') throw badRequest(`payload_encoding must be 'string' or 'base64'`);
  const properties = propertiesFromJson(body.properties);
  if (typeof properties === 'string') throw badRequest(properties);
  if (body.delivery_mode !== undefined && properties.deliveryMode === undefined) properties.deliveryMode = Number(body.delivery_mode);
  const bad = validateExpiration(properties.expiration);
  if (bad) throw badRequest(bad);
  const message = new Message(x.name, routingKey, properties, Buffer.from(payload, encoding === 'base64' ? 'base64' : 'utf8'));
  const routed = await UserSession.run(req.services.core, req.principal, x.vhost, (us) => us.publish(message));
  return ok({ routed });
}

export const exchangeRoutes: Route[] = [
  { method: 'GET', path: '/api/exchanges', handler: (req) => list(req) },
  { method: 'GET', path: '/api/exchanges/:vhost', handler: (req) => list(req, req.params.vhost) },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name',
    handler: (req) => {
      return ok(exchangeJson(req.services, lookup(req)));
    },
  },
  { method: 'PUT', path: '/api/exchanges/:vhost/:name', handler: declare },
  { method: 'DELETE', path: '/api/exchanges/:vhost/:name', handler: remove },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name/bindings/source',
    handler: (req) => {
      const x = lookup(req);
      return listResponse(req.services.admin.exchangeBindings(x.vhost, x.name, 'source').map(bindingJson), req.query);
    },
  },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name/bindings/destination',
    handler: (req) => {
      const x = lookup(req);
      return listResponse(req.services.admin.exchangeBindings(x.vhost, x.name, 'destination').map(bindingJson), req.query);
    },
  },
  { method: 'POST', path: '/api/exchanges/:vhost/:name/publish', handler: publish },
];
