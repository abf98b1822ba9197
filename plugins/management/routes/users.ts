/**
 * /api/users, /api/permissions and /api/topic-permissions: administrators only, as in
 * RabbitMQ. Changes go through the core, which applies them and saves them.
 */
import type { UserRecord } from '../../../src/core/index.js';
import { hashingAlgorithmOf, tagList } from '../../../src/definitions/index.js';
import { badRequest, created, noContent, notFound, ok, stringField, type ApiRequest, type ApiResponse } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';
import type { ManagementServices } from '../services.js';

function userJson(s: ManagementServices, u: UserRecord) {
  const l = s.admin.userLimits(u.name);
  const limits: Record<string, number> = {};
  if (l.maxConnections >= 0) limits['max-connections'] = l.maxConnections;
  if (l.maxChannels >= 0) limits['max-channels'] = l.maxChannels;
  return { name: u.name, password_hash: u.passwordHash, hashing_algorithm: hashingAlgorithmOf(u.passwordHash), tags: [...u.tags], limits };
}

function findUser(s: ManagementServices, name: string): UserRecord {
  const u = s.admin.getUser(name);
  if (!u) throw notFound();
  return u;
}

async function putUser(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const name = req.params.user!;
  const body = await req.body();
  const existing = s.admin.getUser(name);
  const tags = body.tags === undefined ? (existing?.tags ?? []) : tagList(body.tags as string[] | string);
  // a password in clear gives the hash and SCRAM credentials (the core derives them); a hash alone gives no SCRAM; neither keeps both
  if (typeof body.password === 'string') s.admin.putUser({ name, password: body.password, tags });
  else if (typeof body.password_hash === 'string') s.admin.putUser({ name, passwordHash: body.password_hash, tags });
  else s.admin.putUser(existing !== undefined ? { ...existing, tags } : { name, passwordHash: '', tags });
  return existing ? noContent() : created();
}

interface PermissionRow {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

function permissions(s: ManagementServices): PermissionRow[] {
  return s.admin.listPermissions().map((p) => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read }));
}

function topicPermissions(s: ManagementServices) {
  return s.admin.listTopicPermissions().map((t) => ({ user: t.user, vhost: t.vhost, exchange: t.exchange, write: t.write, read: t.read }));
}

function regexField(body: Record<string, unknown>, key: string): string {
  const v = stringField(body, key);
  try {
    new RegExp(v);
  } catch {
    throw badRequest(`${key} is not a valid regular expression: '${v}'`);
  }
  return v;
}

function requireUserAndVhost(s: ManagementServices, user: string, vhost: string): void {
  if (s.admin.getUser(user) === undefined || !s.admin.hasVhost(vhost)) throw notFound();
}

async function putPermissions(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const { vhost, user } = req.params as { vhost: string; user: string };
  requireUserAndVhost(s, user, vhost);
  const body = await req.body();
  const had = s.admin.hasPermissions(user, vhost);
  s.admin.setPermissions(user, vhost, { configure: regexField(body, 'configure'), write: regexField(body, 'write'), read: regexField(body, 'read') });
  return had ? noContent() : created();
}

async function putTopicPermissions(req: ApiRequest): Promise<ApiResponse> {
  const s = req.services;
  const { vhost, user } = req.params as { vhost: string; user: string };
  requireUserAndVhost(s, user, vhost);
  const body = await req.body();
  const exchange = stringField(body, 'exchange');
  const had = s.admin.listTopicPermissions().some((t) => t.user === user && t.vhost === vhost && t.exchange === exchange);
  s.admin.setTopicPermission(user, vhost, { exchange, write: regexField(body, 'write'), read: regexField(body, 'read') });
  return had ? noContent() : created();
}

const admin = 'administrator' as const;

export const userRoutes: Route[] = [
  { method: 'GET', path: '/api/users', need: admin, handler: (req) => listResponse(req.services.admin.listUsers().map((u) => userJson(req.services, u)), req.query) },
  {
    method: 'GET',
    path: '/api/users/without-permissions',
    need: admin,
    handler: (req) => {
      const s = req.services;
      const withSome = new Set(s.admin.listPermissions().map((p) => p.user));
      return ok(s.admin.listUsers().filter((u) => !withSome.has(u.name)).map((u) => userJson(s, u)));
    },
  },
  {
    method: 'POST',
    path: '/api/users/bulk-delete',
    need: admin,
    handler: async (req) => {
      const users = (await req.body()).users;
      if (!Array.isArray(users)) throw badRequest('[{key_missing,users}]');
      for (const u of users) if (typeof u === 'string') req.services.admin.deleteUser(u);
      return noContent();
    },
  },
  { method: 'GET', path: '/api/users/:user', need: admin, handler: (req) => ok(userJson(req.services, findUser(req.services, req.params.user!))) },
  { method: 'PUT', path: '/api/users/:user', need: admin, handler: putUser },
  {
    method: 'DELETE',
    path: '/api/users/:user',
    need: admin,
    handler: (req) => {
      if (!req.services.admin.deleteUser(req.params.user!)) throw notFound();
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/api/users/:user/permissions',
    need: admin,
    handler: (req) => {
      findUser(req.services, req.params.user!);
      return listResponse(permissions(req.services).filter((p) => p.user === req.params.user), req.query);
    },
  },
  {
    method: 'GET',
    path: '/api/users/:user/topic-permissions',
    need: admin,
    handler: (req) => {
      findUser(req.services, req.params.user!);
      return listResponse(topicPermissions(req.services).filter((p) => p.user === req.params.user), req.query);
    },
  },
  { method: 'GET', path: '/api/permissions', need: admin, handler: (req) => listResponse(permissions(req.services), req.query) },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/permissions',
    need: admin,
    handler: (req) => {
      if (!req.services.admin.hasVhost(req.params.vhost!)) throw notFound();
      return listResponse(permissions(req.services).filter((p) => p.vhost === req.params.vhost), req.query);
    },
  },
  {
    method: 'GET',
    path: '/api/permissions/:vhost/:user',
    need: admin,
    handler: (req) => {
      const p = permissions(req.services).find((x) => x.vhost === req.params.vhost && x.user === req.params.user);
      if (!p) throw notFound();
      return ok(p);
    },
  },
  { method: 'PUT', path: '/api/permissions/:vhost/:user', need: admin, handler: putPermissions },
  {
    method: 'DELETE',
    path: '/api/permissions/:vhost/:user',
    need: admin,
    handler: (req) => {
      const { vhost, user } = req.params as { vhost: string; user: string };
      if (!req.services.admin.hasPermissions(user, vhost)) throw notFound();
      req.services.admin.clearPermissions(user, vhost);
      return noContent();
    },
  },
  { method: 'GET', path: '/api/topic-permissions', need: admin, handler: (req) => listResponse(topicPermissions(req.services), req.query) },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/topic-permissions',
    need: admin,
    handler: (req) => {
      if (!req.services.admin.hasVhost(req.params.vhost!)) throw notFound();
      return listResponse(topicPermissions(req.services).filter((p) => p.vhost === req.params.vhost), req.query);
    },
  },
  {
    method: 'GET',
    path: '/api/topic-permissions/:vhost/:user',
    need: admin,
    handler: (req) => {
      const list = topicPermissions(req.services).filter((x) => x.vhost === req.params.vhost && x.user === req.params.user);
      if (list.length === 0) throw notFound();
      return ok(list);
    },
  },
  { method: 'PUT', path: '/api/topic-permissions/:vhost/:user', need: admin, handler: putTopicPermissions },
  {
    method: 'DELETE',
    path: '/api/topic-permissions/:vhost/:user',
    need: admin,
    handler: (req) => {
      const { vhost, user } = req.params as { vhost: string; user: string };
      if (!req.services.admin.listTopicPermissions().some((t) => t.user === user && t.vhost === vhost)) throw notFound();
      req.services.admin.clearTopicPermissions(user, vhost);
      return noContent();
    },
  },
];
