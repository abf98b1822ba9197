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

