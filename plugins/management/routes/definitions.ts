/**
 * /api/definitions: export (GET) and import (POST) in RabbitMQ's format, for the whole
 * broker or one vhost (/api/definitions/{vhost}). Administrators only. An import answers
 * 200 with what it applied and, one line each, what it skipped.
 */
import { badRequest, notFound, ok, type ApiRequest, type ApiResponse } from '../http.js';
import type { Route } from '../router.js';

function withDownload(req: ApiRequest, body: unknown): ApiResponse {
  const name = req.query.get('download');
  if (!name) return ok(body);
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return { status: 200, body, headers: { 'content-disposition': `attachment; filename="${safe}"` } };
}

async function importBody(req: ApiRequest, vhost?: string): Promise<ApiResponse> {
  const body = await req.body();
  try {
    const report = await req.services.admin.importDefinitions(body, vhost);
    req.services.log.info('definitions imported', { by: req.principal.user, vhost, warnings: report.warnings.length });
    return ok(report);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
}

export const definitionRoutes: Route[] = [
  { method: 'GET', path: '/api/definitions', need: 'administrator', handler: (req) => withDownload(req, req.services.admin.exportDefinitions(req.services.version)) },
  { method: 'POST', path: '/api/definitions', need: 'administrator', handler: (req) => importBody(req) },
  {
    method: 'GET',
    path: '/api/definitions/:vhost',
    need: 'administrator',
    handler: (req) => {
      const definitions = req.services.admin.exportDefinitions(req.services.version, req.params.vhost!);
      if (!definitions) throw notFound();
      return withDownload(req, definitions);
    },
  },
  {
    method: 'POST',
    path: '/api/definitions/:vhost',
    need: 'administrator',
    handler: (req) => {
      if (!req.services.admin.hasVhost(req.params.vhost!)) throw notFound();
      return importBody(req, req.params.vhost!);
    },
  },
];
