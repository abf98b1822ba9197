/**
 * The API's route table: `METHOD /api/a/:param/b` patterns matched segment by segment on
 * the raw path, each segment URL-decoded after splitting, so that a vhost named '/' travels
 * as %2F (RabbitMQ's convention). Routes are tried in the order added: add literal paths
 * (`/api/users/without-permissions`) before the parameterised ones they resemble.
 */
import type { Capability } from './auth.js';
import { HttpError, type ApiRequest, type ApiResponse } from './http.js';

export type Handler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

export interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** '/api/queues/:vhost/:name' */
  path: string;
  /** the least tag a user needs (default: management) */
  need?: Capability;
  handler: Handler;
}

interface Compiled extends Route {
  segments: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  readonly #routes: Compiled[] = [];

  add(routes: readonly Route[]): void {
    for (const r of routes) this.#routes.push({ ...r, segments: r.path.split('/').slice(1) });
  }

  /**
   * @returns the route and its parameters; null when no route has this path; throws 405
   * (with Allow) when routes have the path but not the method, 400 for bad escapes
   */
  match(method: string, rawPath: string): Match | null {
    const raw = rawPath.split('/').slice(1);
    if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop(); // a trailing slash is the same path
    let segments: string[];
    try {
      segments = raw.map((s) => decodeURIComponent(s));
    } catch {
      throw new HttpError(400, 'bad_request', 'invalid percent-encoding in the path');
    }
    const allowed: string[] = [];
    for (const r of this.#routes) {
      const params = matchSegments(r.segments, segments);
      if (!params) continue;
      if (r.method === method) return { route: r, params };
      allowed.push(r.method);
    }
    if (allowed.length > 0) throw new HttpError(405, 'method_not_allowed', `Method Not Allowed`, { allow: [...new Set(allowed)].join(', ') });
    return null;
  }
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | null {
  if (pattern.length !== path.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = path[i]!;
    else if (p !== path[i]) return null;
  }
  return params;
}
