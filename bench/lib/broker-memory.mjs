/**
 * The broker's resident memory, read from outside for the idle-connection scenarios
 * (/proc/<pid>/status VmRSS), after a garbage collection when the broker takes SIGUSR2 (Warren
 * and Aedes as started under bench/). A long-running RabbitMQ's allocators keep freed carriers
 * and reuse them, so its RSS delta reads low when earlier work left free memory behind; its
 * own count (`erlang:memory(total)`) is no better: it rose by ~3.9 MB per idle connection
 * here, address space that was never touched (RSS rose by ~10 KiB).
 */
import { readFileSync } from 'node:fs';

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {number} pid @param {boolean} gcSignal @returns {Promise<number>} VmRSS in KiB */
export async function rssKiB(pid, gcSignal) {
  if (gcSignal) {
    process.kill(pid, 'SIGUSR2');
    await sleep(500);
  }
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}


/**
 * The memory fields every idle-connection result carries: connect rate, RSS before, with the
 * connections open and after they closed, and the per-connection cost (RSS delta ÷ count).
 * @param {number} n connections @param {number} connectSeconds @param {number} before
 * @param {number} after @param {number} released all three RSS in KiB
 */
export function memoryFields(n, connectSeconds, before, after, released) {
  return {
    connect_per_s: Math.round(n / connectSeconds),
    rss_before_mib: Math.round(before / 1024),
    rss_after_mib: Math.round(after / 1024),
    rss_after_close_mib: Math.round(released / 1024),
    kib_per_connection: Math.round(((after - before) / n) * 10) / 10,
  };
}
