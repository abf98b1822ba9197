/**
 * Shared plumbing of the stream tests: a Warren broker over a data directory that outlives
 * it (restart tests), stream declaration, confirmed publishing, and consumers that collect
 * deliveries with their `x-stream-offset`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach } from 'vitest';
import { Broker } from '../../src/index.js';
import type { StreamQueue } from '../../src/core/queues/stream/stream-queue.js';
import { waitFor } from '../helpers/amqp-clients.js';

export const STREAM = { 'x-queue-type': 'stream' } as const;

const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary data directory removed after the test. */
export function dataDir(prefix = 'warren-streams-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function brokerOn(dir: string, extra: Record<string, unknown> = {}): Broker {
  return new Broker({ dataDir: dir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' }, ...extra });
}

/** Start a broker on `dir`, run `f`, stop it (cleanly) whatever happens. */
export async function withBroker<T>(dir: string, f: (b: Broker, url: string) => Promise<T>): Promise<T> {
  const b = brokerOn(dir);
  await b.start();
  try {
    return await f(b, b.url('amqp'));
  } finally {
    await b.stop();
  }
}

/** An amqplib connection closed after the test (or by the caller). */
export async function connect(url: string): Promise<ChannelModel> {
  const c = await amqp.connect(url);
  c.on('error', () => {});
  open.push({ close: () => c.close() });
  return c;
}

export function streamOf(b: Broker, name: string, vhost = '/'): StreamQueue {
  const q = b.core.vhosts.get(vhost)?.queues.get(name);
  if (!q) throw new Error(`no queue ${name}`);
  return q as StreamQueue;
}

export async function publishAll(conn: ChannelModel, queue: string, bodies: readonly (string | Buffer)[], options: amqp.Options.Publish = {}): Promise<void> {
  const ch = await conn.createConfirmChannel();
  for (const b of bodies) ch.sendToQueue(queue, typeof b === 'string' ? Buffer.from(b) : b, options);
  await ch.waitForConfirms();
  await ch.close();
}

/** A consumer that acks everything it gets (unless `ack` is false) and keeps the deliveries. */
export interface Reader {
  ch: Channel;
  tag: string;
  got: ConsumeMessage[];
  offsets(): number[];
  texts(): string[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

export async function reader(conn: ChannelModel, queue: string, args: Record<string, unknown>, options: { prefetch?: number; ack?: boolean } = {}): Promise<Reader> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  await ch.prefetch(options.prefetch ?? 100);
  const got: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (!m) return;
      got.push(m);
      if (options.ack !== false) ch.ack(m);
    },
    { arguments: args },
  );
  return {
    ch,
    tag: consumerTag,
    got,
    offsets: () => got.map((m) => m.properties.headers?.['x-stream-offset'] as number),
    texts: () => got.map((m) => m.content.toString()),
    // 10 s: a clean-clone run at load 35 waited more than 5 s for a stream reader's first deliveries
    waitFor: (n, timeoutMs = 10_000) => waitFor(() => got.length >= n, `${n} deliveries from ${queue} (got ${got.length})`, timeoutMs),
  };
}

export const range = (from: number, n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
