/**
 * The short CI form of bench/broker-crash.mjs: the real `warren start` (compiled by
 * test/global-setup.ts) under publishers with confirms and acking consumers, killed with
 * SIGKILL at random moments and restarted on the same data directory; then everything is
 * drained and checked against what the clients saw (rules in bench/broker-crash-ledger.mjs).
 * The long form: `node bench/broker-crash.mjs --cycles 20`.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from './bench-runner.js';

describe('broker crash test (SIGKILL, short form)', () => {
  it(
    'loses no confirmed message and keeps per-queue order through 3 kills, and 2 more while the broker recovers',
    async () => {
      const { code, summary, stderr } = await runBench('broker-crash.mjs', [
        ...['--cycles', '3', '--min-ms', '300', '--max-ms', '900', '--window', '150'],
        // the second and third starts are first killed while they recover
        ...['--kill-in-recovery', '1', '--seed', '7'],
      ]);
      expect(summary.failures, stderr).toEqual([]);
      expect(summary.ok, stderr).toBe(true);
      expect(code).toBe(0);
      expect(summary.cycles).toBe(3);
      expect(summary.recovery_kills).toBe(2);
      expect(summary.lost).toBe(0);
      expect(summary.out_of_order).toBe(0);
      expect(summary.corrupt).toBe(0);
      // enough traffic that the kills hit work in flight
      expect(summary.confirmed).toBeGreaterThan(1000);
      expect(summary.acked).toBeGreaterThan(500);
      expect(summary.unconfirmed_at_crash as number).toBeGreaterThan(0);
      // (how much of the backlog queue is left for the final drain depends on how fast the
      // loaded machine ran the consumers; what is left is checked by the ledger above)
    },
    90_000,
  );
});
