/**
 * /api/bindings: list (the default exchange's implicit bindings included, as RabbitMQ lists
 * them), and between one exchange and one queue (…/e/{source}/q/{queue}) or exchange
 * (…/e/{source}/e/{destination}): list, create (POST, 201 with Location = the binding's
 * properties key), get and delete one by its properties key.
 */
import type { Binding } from '../../../src/core/binding.js';
import { jsonToFieldTable } from '../../../src/definitions/index.js';
import { requireVhostAccess } from '../auth.js';
import { bindingJson, bindingsOf, propertiesKey } from '../format.js';
import { noContent, notFound, ok, stringField, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import { UserSession } from '../user-session.js';
import { visibleVhosts } from '../visible.js';
import { exchangeParam } from './exchanges.js';

type Kind = 'queue' | 'exchange';

function list(req: ApiRequest, vhost?: string): ApiResponse {
  const s = req.services;
  if (vhost !== undefined) requireVhostAccess(s.core, req.principal, vhost);
  const items = visibleVhosts(s, req.principal)
    .filter((v) => vhost === undefined || v.name === vhost)
    .flatMap((v) => bindingsOf(v));
  return listResponse(items, req.query);
}

/** The two ends of …/e/{source}/{q|e}/{destination}, which must exist (404). */
function ends(req: ApiRequest, kind: Kind) {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.core, req.principal, vhost);
  const v = s.core.vhosts.get(vhost)!;
  const source = v.exchanges.get(exchangeParam(req.params.source!));
  const destination = kind === 'queue' ? v.queues.get(req.params.destination!) : v.exchanges.get(exchangeParam(req.params.destination!));
  if (!source || !destination) throw notFound();
  const between = [...source.bindings.values()].filter((b) => b.destination === destination);
  return { v, source, destination, between };
}

function findByKey(between: Binding[], props: string): Binding {
  const b = between.find((x) => propertiesKey(x.routingKey, x.arguments) === props);
  if (!b) throw notFound();
  return b;
}

async function create(req: ApiRequest, kind: Kind): Promise<ApiResponse> {
  const { v, source, destination } = ends(req, kind);
  const body = await req.body();
  const routingKey = stringField(body, 'routing_key', '');
  const args = jsonToFieldTable(body.arguments);
  await UserSession.run(req.services.core, req.principal, v.name, (us) => {
    if (kind === 'queue') us.session.bindQueue(destination.name, source.name, routingKey, args);
    else us.session.bindExchange(destination.name, source.name, routingKey, args);
  });
  // relative to the request URL, as RabbitMQ answers: "<destination>/<properties key>"
  return { status: 201, headers: { location: `${encodeURIComponent(destination.name)}/${propertiesKey(routingKey, args)}` } };
}

async function remove(req: ApiRequest, kind: Kind): Promise<ApiResponse> {
  const { v, source, destination, between } = ends(req, kind);
  const b = findByKey(between, req.params.props!);
  await UserSession.run(req.services.core, req.principal, v.name, (us) => {
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
        const { v, between } = ends(req, kind);
        return listResponse(between.map((b) => bindingJson(v, b)), req.query);
      },
    },
    { method: 'POST', path: base, handler: (req) => create(req, kind) },
    {
      method: 'GET',
      path: `${base}/:props`,
      handler: (req) => {
        const { v, between } = ends(req, kind);
        return ok(bindingJson(v, findByKey(between, req.params.props!)));
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
