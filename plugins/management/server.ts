/**
 * The management HTTP server (node:http): the API under /api/, Prometheus metrics at
 * /metrics, and the web UI's static files everywhere else. One listener, as RabbitMQ's
 * management plugin on 15672, and optionally the same over HTTPS (15671, broker-wide
 * ssl_options), as RabbitMQ's management.ssl.port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TlsListeners } from '../../src/tls/index.js';
import { authenticate, requireCapability } from './auth.js';
import { HttpError, httpErrorOf, toJson, type ApiRequest, type ApiResponse } from './http.js';
import { renderMetrics } from './metrics.js';
import type { Router } from './router.js';
import type { ManagementServices } from './services.js';
import { serveStatic } from './static-files.js';
import { listenDualStack } from '../../src/util/index.js';

/**
 * Served with every response: the UI loads only its own scripts and styles (no inline code,
 * no CDN) and may not be framed.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export class ManagementServer {
  readonly #services: ManagementServices;
  readonly #router: Router;
  #server: Server | null = null;
  #tlsServer: Server | null = null;

  constructor(services: ManagementServices, router: Router) {
    this.#services = services;
    this.#router = router;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { port, host } = this.#services.settings;
    const server = createServer(timeouts(this.#services.settings.requestTimeoutMs), (req, res) => void this.#handle(req, res));
    this.#server = server;
    return listen(server, port, host);
  }

  /** The same API, UI and metrics over HTTPS (management.ssl_enabled). */
  async listenTls(tls: TlsListeners): Promise<{ host: string; port: number }> {
    const { sslPort, host } = this.#services.settings;
    // a client that stalls in the handshake is dropped as an idle keep-alive connection would be
    const server = tls.createHttpsServer(
      { name: 'management-https', handshakeTimeoutMs: 10_000, log: this.#services.log },
      (req, res) => void this.#handle(req, res),
      timeouts(this.#services.settings.requestTimeoutMs),
    );
    this.#tlsServer = server;
    return listen(server, sslPort, host);
  }

  async stop(): Promise<void> {
    const servers = [this.#server, this.#tlsServer];
    this.#server = null;
    this.#tlsServer = null;
    await Promise.all(
      servers.map((server) => {
        if (!server?.listening) return Promise.resolve();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        return closed;
      }),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // inside the try: a target such as '//' or '//a:b@' is not a valid URL (found by
      // test/fuzz; it used to escape as an unhandled rejection and leave the request unanswered)
      const url = parseTarget(req.url);
      const path = url.pathname;
      if (path === '/api' || path.startsWith('/api/')) return this.#send(res, await this.#api(req, path, url.searchParams));
      if (path === '/metrics') return this.#metrics(req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'Method Not Allowed', { allow: 'GET, HEAD' });
      await serveStatic(req, res, path, SECURITY_HEADERS);
    } catch (e) {
      this.#sendError(res, e, req.headers['x-requested-with'] === 'XMLHttpRequest');
    }
  }

  async #api(req: IncomingMessage, path: string, query: URLSearchParams): Promise<ApiResponse> {
    const s = this.#services;
    const principal = authenticate(s.core, s.admin, req.headers.authorization, req.socket.remoteAddress ?? '');
    const match = this.#router.match(req.method ?? 'GET', path);
    if (!match) throw new HttpError(404, 'Object Not Found', 'Not Found');
    requireCapability(principal, match.route.need ?? 'management');
    const request: ApiRequest = {
      method: req.method ?? 'GET',
      params: match.params,
      query,
      headers: req.headers,
      principal,
      services: s,
      body: () => readJsonBody(req, s.settings.maxBodySize),
    };
    const response = await match.route.handler(request);
    if (request.method === 'GET') return response;
    // a change answered 2xx is a promise, as a declare-ok is: in a cluster it waits for the
    // in-sync replicas to hold it (at once on a single node); too few in sync past the deadline: 503
    await new Promise<void>((resolve, reject) =>
      s.core.afterMetadataReplicated((refusal) => (refusal === null ? resolve() : reject(new HttpError(503, 'not_replicated', refusal.message)))),
    );
    return response;
  }

  #metrics(req: IncomingMessage, res: ServerResponse): void {
    const s = this.#services;
    if (s.settings.metricsAuth) requireCapability(authenticate(s.core, s.admin, req.headers.authorization, req.socket.remoteAddress ?? ''), 'monitoring');
    const text = renderMetrics(s);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  #send(res: ServerResponse, r: ApiResponse): void {
    const headers: Record<string, string> = { 'cache-control': 'no-cache', vary: 'authorization', ...SECURITY_HEADERS, ...r.headers };
    if (r.body === undefined || r.status === 204) {
      res.writeHead(r.status, headers);
      res.end();
      return;
    }
    const text = toJson(r.body);
    res.writeHead(r.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #sendError(res: ServerResponse, e: unknown, fromScript = false): void {
    const err = httpErrorOf(e);
    if (err.status >= 500) this.#services.log.error('management request failed', { error: (e as Error)?.stack ?? String(e) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers = { ...err.headers };
    // no Basic challenge for the web UI's own requests: a browser would pop up its login dialog
    if (fromScript) delete headers['www-authenticate'];
    this.#send(res, { status: err.status, body: { error: err.error, reason: err.reason }, headers });
  }
}

/** The request target as a URL; 400 when it is not one (RFC 9112 §3.2: origin-form). */
function parseTarget(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'bad_request', 'invalid request target');
  }
}

/** The request body as JSON: {} when empty, 400 when malformed, 413 past `limit` bytes. */
function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, 'payload_too_large', `request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        resolve(parsed as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'bad_request', 'failed_to_parse_json'));
      }
    });
  });
}

/**
 * Slowloris guard: a request must arrive whole within `requestMs`, its head within at most 60 s
 * (Node's default); Node answers 408 and closes. Node checks these only every
 * connectionsCheckingInterval (30 s by default), so the check runs often enough for the limit.
 */
function timeouts(requestMs: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return { requestTimeout: requestMs, headersTimeout: Math.min(requestMs, 60_000), connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestMs / 4))) };
}

/** Listen (dual-stack, as every listener) and report the address bound. */
async function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  server.keepAliveTimeout = 5000;
  await listenDualStack(server, port, host);
  const a = server.address() as AddressInfo;
  return { host: a.address, port: a.port };
}
