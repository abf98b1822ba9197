/**
 * The CI form of bench/broker-reclaim.mjs: 200 MB of persistent
 * messages through 1 MiB segments (store.segment_size at its minimum), consumed as they come
 * except for one queue in 20 messages consumed only at the end, which keeps every segment
 * partly live until then; afterwards the data directory must be back near its empty size.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from './bench-runner.js';

describe('reclaim after publish and consume', () => {
  it(
    'shrinks the data directory back near its empty size once 200 MB are consumed, with write amplification near 1',
    async () => {
      const { code, summary, stderr } = await runBench('broker-reclaim.mjs', ['--mb', '200', '--segment-size', String(1024 * 1024), '--settle-seconds', '40']);
      expect(summary.ok, `${JSON.stringify(summary)}\n${stderr}`).toBe(true);
      expect(code).toBe(0);
      expect(summary.consumed).toBe(summary.messages);
      expect(summary.out_of_order).toBe(0);
      // the slow queue kept segments alive: the directory really grew before it shrank
      expect(summary.peak_disk_mb as number).toBeGreaterThan(100);
      expect(summary.final_mb as number).toBeLessThan(4);
      // every byte is written once or, consumed before its round was written, left out (the
      // journal's elision: how much depends on timing), plus framing and acks; compaction may copy a little
      expect(summary.write_amplification_with_elided as number).toBeGreaterThan(1);
      expect(summary.write_amplification as number).toBeLessThan(1.3);
      expect(summary.segments_deleted as number).toBeGreaterThan(150);
    },
    90_000,
  );
});
