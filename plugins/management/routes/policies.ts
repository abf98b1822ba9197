/**
 * /api/policies: list, get, set and clear. Setting needs the policymaker (or administrator)
 * tag and access to the vhost; a policy applies to matching queues and exchanges at once
 * (the core re-applies effective arguments to running queues) and is saved.
 */
import type { FieldTable } from '../../../src/codec/index.js';
import type { Policy } from '../../../src/core/index.js';
import { fieldTableToJson, jsonToFieldTable } from '../../../src/definitions/index.js';
import { requireVhostAccess } from '../auth.js';
import { badRequest, created, noContent, notFound, ok, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import { visibleVhostNames } from '../visible.js';

export function policyJson(p: Policy) {
  return { vhost: p.vhost, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: fieldTableToJson(p.definition), priority: p.priority };
}

function list(req: ApiRequest, vhost?: string): ApiResponse {
  const s = req.services;
  if (vhost !== undefined) requireVhostAccess(s.admin, req.principal, vhost);
  const items = visibleVhostNames(s, req.principal, vhost).flatMap((v) => s.admin.listPolicies(v).map(policyJson));
  return listResponse(items, req.query);
}

const NON_NEGATIVE = ['max-length', 'max-length-bytes', 'message-ttl', 'delivery-limit', 'stream-max-segment-size-bytes'];
const STRINGS = ['dead-letter-exchange', 'dead-letter-routing-key', 'alternate-exchange', 'queue-mode', 'max-age'];
const OVERFLOW = ['drop-head', 'reject-publish', 'reject-publish-dlx'];

/** Value checks RabbitMQ makes on a policy definition ("Validation failed" texts). */
function validateDefinition(d: FieldTable): string | null {
  if (Object.keys(d).length === 0) return 'definition must not be empty';
  for (const [k, v] of Object.entries(d)) {
    if (NON_NEGATIVE.includes(k) && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) return `${k} must be a non-negative integer, got ${JSON.stringify(v)}`;
    if (k === 'expires' && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) return `expires must be a positive integer, got ${JSON.stringify(v)}`;
    if (STRINGS.includes(k) && typeof v !== 'string') return `${k} must be a string, got ${JSON.stringify(v)}`;
    if (k === 'overflow' && !(typeof v === 'string' && OVERFLOW.includes(v))) return `overflow must be one of ${OVERFLOW.join(', ')}`;
  }
  return null;
}

async function put(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const vhost = req.params.vhost!;
  requireVhostAccess(s.admin, req.principal, vhost);
  const body = await req.body();
  const definition = body.definition;
  if (typeof body.pattern !== 'string') throw badRequest('Validation failed\n\npattern must be a string\n');
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) throw badRequest('Validation failed\n\ndefinition must be an object\n');
  const table = jsonToFieldTable(definition);
  const problem = validateDefinition(table);
  if (problem) throw badRequest(`Validation failed\n\n${problem}\n`);
  const priority = body.priority === undefined ? 0 : Number(body.priority);
  if (!Number.isInteger(priority)) throw badRequest('Validation failed\n\npriority must be an integer\n');
  const existed = s.admin.getPolicy(vhost, req.params.name!) !== undefined;
  try {
    s.admin.setPolicy({
      vhost,
      name: req.params.name!,
      pattern: body.pattern,
      applyTo: (typeof body['apply-to'] === 'string' ? body['apply-to'] : 'all') as Policy['applyTo'],
      priority,
      definition: table,
    });
  } catch (e) {
    throw badRequest(`Validation failed\n\n${(e as Error).message}\n`);
  }
  return existed ? noContent() : created();
}

export const policyRoutes: Route[] = [
  { method: 'GET', path: '/api/policies', handler: (req) => list(req) },
  { method: 'GET', path: '/api/policies/:vhost', handler: (req) => list(req, req.params.vhost) },
  {
    method: 'GET',
    path: '/api/policies/:vhost/:name',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      const p = req.services.admin.getPolicy(req.params.vhost!, req.params.name!);
      if (!p) throw notFound();
      return ok(policyJson(p));
    },
  },
  { method: 'PUT', path: '/api/policies/:vhost/:name', need: 'policymaker', handler: put },
  {
    method: 'DELETE',
    path: '/api/policies/:vhost/:name',
    need: 'policymaker',
    handler: (req) => {
      requireVhostAccess(req.services.admin, req.principal, req.params.vhost!);
      if (!req.services.admin.clearPolicy(req.params.vhost!, req.params.name!)) throw notFound();
      return noContent();
    },
  },
];
