/**
 * The CI form of bench/broker-backlog.mjs: 100 MB of 1 KiB
 * persistent messages confirmed into one durable queue nobody consumes, the real
 * `warren start` sampled for RSS all along; then consumed in order. With the queue's memory
 * window working the broker stays near 150 MB; holding the backlog in memory instead
 * (the pager switched off) measured over 300 MB, so the bound below does catch that.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from './bench-runner.js';

describe('deep backlog with bounded memory', () => {
  it(
    'queues 100 MB with confirms and no consumer under 220 MB of RSS, then delivers all in order',
    async () => {
      const { code, summary, stderr } = await runBench('broker-backlog.mjs', ['--mb', '100', '--size', '1024', '--max-rss-mb', '220']);
      expect(summary.ok, `${JSON.stringify(summary)}\n${stderr}`).toBe(true);
      expect(code).toBe(0);
      expect(summary.messages).toBe(102400);
      expect(summary.queued).toBe(102400);
      expect(summary.consumed).toBe(102400);
      expect(summary.out_of_order).toBe(0);
      expect((summary.rss_mib as { max: number }).max).toBeLessThan(220);
    },
    90_000,
  );
});
