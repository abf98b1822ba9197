/**
 * Checks the claim in lib/clock.mjs: two Node processes on this machine
 * agree on `performance.timeOrigin + performance.now()` closely enough to
 * measure cross-process latency. Forks itself, exchanges timestamps over
 * IPC 2,000 times and prints the median clock offset (NTP-style estimate:
 * child time minus the midpoint of the parent's send and receive times)
 * and the round-trip time. Exit status 1 if the offset exceeds 0.1 ms.
 *
 *   node bench/check-clock.mjs
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nowMs } from './lib/clock.mjs';
import { median } from './lib/table.mjs';

const ROUNDS = 2000;
const LIMIT_MS = 0.1;

if (process.argv[2] === 'child') {
  process.on('message', () => process.send?.(nowMs()));
  process.on('disconnect', () => process.exit(0));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['child']);
  /** @type {number[]} */
  const offsets = [];
  /** @type {number[]} */
  const rtts = [];
  let sentAt = 0;
  child.on('message', (childTime) => {
    const receivedAt = nowMs();
    offsets.push(/** @type {number} */ (childTime) - (sentAt + receivedAt) / 2);
    rtts.push(receivedAt - sentAt);
    if (offsets.length < ROUNDS) {
      sentAt = nowMs();
      child.send('ping');
      return;
    }
    child.disconnect();
    const offset = /** @type {number} */ (median(offsets));
    const rtt = /** @type {number} */ (median(rtts));
    process.stdout.write(`${JSON.stringify({ rounds: ROUNDS, median_offset_ms: Math.round(offset * 1e4) / 1e4, median_rtt_ms: Math.round(rtt * 1e4) / 1e4, limit_ms: LIMIT_MS })}\n`);
    process.exitCode = Math.abs(offset) > LIMIT_MS ? 1 : 0;
  });
  sentAt = nowMs();
  child.send('ping');
}
