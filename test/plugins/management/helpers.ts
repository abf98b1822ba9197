/**
 * A Warren with the management plugin on an OS-chosen port (and AMQP, optionally MQTT and
 * STOMP), in a temporary data directory, and a small HTTP client for its API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../../src/index.js';

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ManagedBroker {
  broker: Broker;
  dataDir: string;
  /** http://127.0.0.1:<port> */
  base: string;
  amqpUrl: string;
  /** an API call as `auth` (default guest:guest; null: no Authorization header) */
  api<T = any>(method: string, path: string, body?: unknown, auth?: string | null, headers?: Record<string, string>): Promise<ApiResult<T>>;
  stop(): Promise<void>;
}

export const GUEST = 'guest:guest';

export async function startManaged(options: { mqtt?: boolean; stomp?: boolean; dataDir?: string; extra?: BrokerOptions } = {}): Promise<ManagedBroker> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'warren-mgmt-'));
  const broker = new Broker({
    dataDir,
    log: { level: 'warn' },
    amqp: { port: 0, host: '127.0.0.1' },
    management: { port: 0, host: '127.0.0.1', sampleInterval: 200 },
    ...(options.mqtt ? { mqtt: { port: 0, host: '127.0.0.1', wsEnabled: false } } : {}),
    ...(options.stomp ? { stomp: { port: 0, host: '127.0.0.1', wsEnabled: false } } : {}),
    ...options.extra,
  });
  try {
    await broker.start();
  } catch (e) {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { port } = broker.address('management');
  const base = `http://127.0.0.1:${port}`;
  return {
    broker,
    dataDir,
    base,
    amqpUrl: broker.url('amqp'),
    async api(method, path, body, auth = GUEST, headers = {}) {
      const h: Record<string, string> = { ...headers };
      if (auth !== null) h.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      if (body !== undefined) h['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    async stop() {
      await broker.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `%2F` for '/', as the API takes vhost names in paths. */
export const enc = encodeURIComponent;

/** Poll until `probe` returns something other than undefined (rates need two samples). */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
