import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageStore, MessageToStore, StoredMessage } from '../../src/store/message-store.js';

const dirs: string[] = [];

/** A fresh directory under the OS temp dir; `cleanupTempDirs` removes them all. */
export async function tempDir(prefix = 'warren-store-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export function msg(body: string | Buffer, routingKey = 'rk', exchange = 'ex', priority = 0): MessageToStore {
  return { exchange, routingKey, body: typeof body === 'string' ? Buffer.from(body) : body, publishedAt: 1_700_000_000_000, priority };
}

/** Properties bytes stand-in: the store treats them as opaque bytes. */
export const props = (s = 'p'): Buffer => Buffer.from(`props:${s}`);

/** Append one message to one queue. */
export function put(store: MessageStore, queueId: number, seq: number, body: string | Buffer, expiresAt = 0): number {
  return store.appendMessage(msg(body), props(String(seq)), expiresAt, [queueId], [seq], 1);
}

export function read(
  store: MessageStore,
  queueId: number,
  afterSeq = 0,
  maxCount = 1e9,
  extra: { maxBytes?: number; priority?: number } = {},
): Promise<{ messages: StoredMessage[]; error: Error | null }> {
  return new Promise((resolve) => {
    store.read({ queueId, afterSeq, maxCount, ...extra }, { onMessages: (_t, messages, error) => resolve({ messages, error }) }, 0);
  });
}

export async function readAll(store: MessageStore, queueId: number): Promise<StoredMessage[]> {
  const { messages, error } = await read(store, queueId);
  if (error) throw error;
  return messages;
}

export const bodies = (ms: StoredMessage[]): string[] => ms.map((m) => m.body.toString());

export function durable(store: MessageStore, lsn: number): Promise<Error | null> {
  return new Promise((resolve) => store.whenDurable(lsn, { onDurable: (_t, e) => resolve(e) }, 0));
}

/** Total size of the regular files in `dir` (recursively). */
export async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await dirBytes(p);
    // a file reclaimed between the listing and the stat counts for nothing
    else n += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return n;
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.wj')).sort();
}

/** Collects the store's log lines instead of printing warnings. */
export function logSink(): { lines: { level: string; message: string }[]; log: (level: 'info' | 'warn' | 'error', message: string) => void } {
  const lines: { level: string; message: string }[] = [];
  return { lines, log: (level, message) => void lines.push({ level, message }) };
}
