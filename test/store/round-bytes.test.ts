/**
 * Group commit sized by bytes as well as records: a round writes at most `roundBytes` before
 * its fdatasync (one larger record being a round of its own), so a burst of large messages is
 * synced a few MiB at a time and its first confirms do not wait for the whole burst. Real
 * files in a temp directory, fsync mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { cleanupTempDirs, logSink, msg, props, readAll, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

describe('group commit by bytes', () => {
  it('a burst of 256 KiB messages is synced 1 MiB at a time, the first confirmed before the last is written', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, roundBytes: 1 << 20, log: logSink().log, reclaim: { intervalMs: 60_000, idleRolloverMs: 60_000 } });
    const body = Buffer.alloc(256 * 1024, 0x5a);
    const before = s.metrics();
    const lsns: number[] = [];
    for (let i = 1; i <= 16; i++) lsns.push(s.appendMessage(msg(body), props(), 0, [1], [i], 1));
    // the durable LSN each confirm saw when it was released
    const seenAt: number[] = [];
    await Promise.all(
      lsns.map(
        (lsn, i) =>
          new Promise<void>((resolve, reject) =>
            s.whenDurable(lsn, { onDurable: (_t, error) => (error ? reject(error) : ((seenAt[i] = s.durableLsn), resolve())) }, i),
          ),
      ),
    );
    const after = s.metrics();
    // 16 × 256 KiB (+ framing) in rounds of at most 1 MiB: one fdatasync per round, not one per burst
    expect(after.flushes - before.flushes).toBeGreaterThanOrEqual(5);
    expect(after.fsyncs - before.fsyncs).toBeGreaterThanOrEqual(5);
    expect(seenAt[0]).toBeLessThan(lsns[lsns.length - 1]);
    expect((await readAll(s, 1)).map((m) => m.body.equals(body))).toEqual(new Array(16).fill(true));
    await s.close();
  });

  it('a record larger than a round is a round of its own', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, roundBytes: 64 * 1024, log: logSink().log });
    const big = Buffer.alloc(200 * 1024, 1);
    const lsn = s.appendMessage(msg(big), props(), 0, [1], [1], 1);
    s.appendMessage(msg('small'), props(), 0, [1], [2], 1);
    await s.flush();
    expect(s.durableLsn).toBeGreaterThan(lsn);
    expect((await readAll(s, 1)).map((m) => m.body.length)).toEqual([big.length, 5]);
    await s.close();
  });
});
