/**
 * The HTTP client `warren ctl` talks to a running broker with: the management API, basic
 * auth, JSON in and out. Where to connect comes from flags, then the environment, then
 * defaults (localhost:15672, guest/guest), as rabbitmqadmin takes them.
 */
import { request } from 'node:http';

export interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  timeoutMs: number;
}

/** A failed call: the API's status and error, or no status when the broker was not reachable. */
export class CtlError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body: unknown;
}

export class CtlClient {
  constructor(readonly target: Target) {}

  get(path: string): Promise<unknown> {
    return this.call('GET', path).then((r) => r.body);
  }

  /** @throws CtlError for a connection failure or a status ≥ 400 */
  call(method: string, path: string, body?: unknown): Promise<Reply> {
    const t = this.target;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: t.host,
          port: t.port,
          method,
          path,
          headers: {
            authorization: `Basic ${Buffer.from(`${t.user}:${t.password}`).toString('base64')}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
          timeout: t.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              if (text !== '') parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) {
              const e = parsed as { error?: string; reason?: string };
              reject(new CtlError(typeof e === 'object' && e?.reason ? `${e.error}: ${e.reason}` : `HTTP ${status} ${text}`, status));
            } else {
              resolve({ status, body: parsed });
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${t.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(new CtlError(`cannot reach the management API at ${hostPort(t)}: ${e.message} (is the broker running with the management plugin?)`, null)),
      );
      req.end(payload);
    });
  }
}

export function hostPort(t: Target): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}
