/**
 * Where a process's resident memory sits, as the process itself sees it right after a full
 * GC: V8's heap spaces (committed and used), external/array-buffer memory, and what is left
 * of the RSS outside the V8 heap (native: libuv handles, the C++ side of sockets, malloc,
 * SQLite's cache, the binary's own pages). The broker scripts under bench/ append one line per
 * SIGUSR2 with `--memory-log <file>`, so idle-connection runs can split their RSS delta.
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const KiB = 1024;

/** @returns {Record<string, number>} KiB figures */
export function memorySplit() {
  const m = process.memoryUsage();
  /** @type {Record<string, number>} */
  const out = { rss: Math.round(m.rss / KiB), heap_total: Math.round(m.heapTotal / KiB), heap_used: Math.round(m.heapUsed / KiB), external: Math.round(m.external / KiB), array_buffers: Math.round(m.arrayBuffers / KiB) };
  for (const s of getHeapSpaceStatistics()) {
    out[`${s.space_name}_committed`] = Math.round(s.physical_space_size / KiB);
    out[`${s.space_name}_used`] = Math.round(s.space_used_size / KiB);
  }
  out.outside_heap = out.rss - Math.round(m.heapTotal / KiB);
  return out;
}

/** On SIGUSR2: full GC (needs --expose-gc), then one line of `memorySplit` to `file` when given. @param {string | undefined} file */
export function gcOnSignal(file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...memorySplit() })}\n`);
  });
}
