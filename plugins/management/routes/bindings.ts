/**
 * /api/bindings: list (the default exchange's implicit bindings included, as RabbitMQ lists
 * them), and between one exchange and one queue (…/e/{source}/q/{queue}) or exchange
 * (…/e/{source}/e/{destination}): list, create (POST, 201 with Location = the binding's
 * properties key), get and delete one by its properties key.
 */
import type { BindingSnapshot } from '../../../src/core/index.js';
import { jsonToFieldTable } from '../../../src/definitions/index.js';
import { requireVhostAccess } from '../auth.js';
import { bindingJson, bindingsOf, propertiesKey } from '../format.js';
import { noContent, notFound, ok, stringField, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import { UserSession } from '../user-session.js';
import { visibleVhostNames } from '../visible.js';
import { exchangeParam } from './exchanges.js';

type Kind = 'queue' | 'exchange';

function list(req: ApiRequest, vhost?: string): ApiResponse {
  const s = req.services;
  if (vhost !== undefined) requireVhostAccess(s.admin, req.principal, vhost);
  const items = visibleVhostNames(s, req.principal, vhost).flatMap((v) => bindingsOf(s, v));
  return listResponse(items, req.query);
}

/** The two ends of …/e/{source}/{q|e}/{destination}, which must exist (404). */
function ends(req: ApiRequest, kind: Kind) {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const source = s.admin.getExchange(vhost, exchangeParam(req.params.source!));
  const destination = kind === 'queue' ? s.admin.getQueue(vhost, req.params.destination!) : s.admin.getExchange(vhost, exchangeParam(req.params.destination!));
  if (!source || !destination) throw notFound();
  const between = s.admin
    .exchangeBindings(vhost, source.name, 'source')
    .filter((b) => b.destinationType === kind && b.destination === destination.name);
  return { vhost, source, destination, between };
}

function findByKey(between: BindingSnapshot[], props: string): BindingSnapshot {
  const b = between.find((x) => propertiesKey(x.routingKey, x.arguments) === props);
  if (!b) throw notFound();
  return b;
}

async function create(req: ApiRequest, kind: Kind): Promise<ApiResponse> {
  const { vhost, source, destination } = ends(req, kind);
  const body = await req.body();
  const routingKey = stringField(body, 'routing_key', '');
  const args = jsonToFieldTable(body.arguments);
  await UserSession.run(req.services.core, req.principal, vhost, (us) => {
    if (kind === 'queue') us.session.bindQueue(destination.name, source.name, routingKey, args);
    else us.session.bindExchange(destination.name, source.name, routingKey, args);
  });
  // relative to the request URL, as RabbitMQ answers: "<destination>/<properties key>"
  return { status: 201, headers: { location: `${encodeURIComponent(destination.name)}/${propertiesKey(routingKey, args)}` } };
}

async function remove(req: ApiRequest, kind: Kind): Promise<ApiResponse> {
  const { vhost, source, destination, between } = ends(req, kind);
  const b = findByKey(between, req.params.props!);
  await UserSession.run(req.services.core, req.principal, vhost, (us) => {
    if (kind === 'queue') us.session.unbindQueue(destination.name, source.name, b.routingKey, b.arguments);
    else us.session.unbindExchange(destination.name, source.name, b.routingKey, b.arguments);
  });
  return noContent();
}

function routesFor(kind: Kind, letter: 'q' | 'e'): Route[] {
  const base = `/api/bindings/:vhost/e/:source/${letter}/:destination`;
  return [
    {
      method: 'GET',
      path: base,
      handler: (req) => {
        return listResponse(ends(req, kind).between.map(bindingJson), req.query);
      },
    },
    { method: 'POST', path: base, handler: (req) => create(req, kind) },
    {
      method: 'GET',
      path: `${base}/:props`,
      handler: (req) => {
        return ok(bindingJson(findByKey(ends(req, kind).between, req.params.props!)));
      },
    },
    { method: 'DELETE', path: `${base}/:props`, handler: (req) => remove(req, kind) },
  ];
}

export const bindingRoutes: Route[] = [
  { method: 'GET', path: '/api/bindings', handler: (req) => list(req) },
  { method: 'GET', path: '/api/bindings/:vhost', handler: (req) => list(req, req.params.vhost) },
  ...routesFor('queue', 'q'),
  ...routesFor('exchange', 'e'),
];
