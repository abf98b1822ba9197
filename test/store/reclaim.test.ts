import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from '../../src/store/file-store.js';
import { bodies, cleanupTempDirs, dirBytes, logSink, msg, props, put, readAll, segmentFiles, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const MiB = 1024 * 1024;

async function open(dir: string, extra: Partial<FileStoreOptions> = {}) {
  return FileStore.open({
    dir,
    log: logSink().log,
    segmentSize: MiB,
    reclaim: {
      intervalMs: 20,
      idleRolloverMs: 50,
      compactMinBytes: 64 * 1024,
      compactLagSegments: 1,
      compactMinAgeMs: 0,
      maxCompactionBytesPerSecond: 1024 * MiB,
    },
    ...extra,
  });
}

async function crashCopy(dir: string): Promise<string> {
  const to = await tempDir('warren-crash-');
  for (const f of readdirSync(dir)) if (f.endsWith('.wj')) copyFileSync(join(dir, f), join(to, f));
  return to;
}

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('reclaim', () => {
  it('gives the disk back once everything is consumed (64 MiB through 1 MiB segments)', async () => {
    const dir = await tempDir();
    // compaction waits for segments to age: a consumer's backlog is not worth copying
    const s = await open(dir, { reclaim: { intervalMs: 20, idleRolloverMs: 50 } });
    const body = Buffer.alloc(4096, 1);
    let seq = 0;
    for (let round = 0; round < 16; round++) {
      const first = seq + 1;
      for (let i = 0; i < 1024; i++) s.appendMessage(msg(body), props(), 0, [1, 2], [++seq, seq], 2);
      await s.flush();
      for (let q = first; q <= seq; q++) {
        s.ack(1, q);
        s.ack(2, q);
      }
    }
    await s.flush();
    expect(s.metrics().userPayloadBytes).toBeGreaterThan(64 * MiB);
    // the active segment rolls once idle, then every segment goes (counted once the directory
    // sync after its unlink returned, which may come a little after the file is gone)
    await waitFor(async () => (await dirBytes(dir)) < 64 * 1024 && s.metrics().segmentsDeleted >= 64);
    const m = s.metrics();
    expect(m.segmentsDeleted).toBeGreaterThanOrEqual(64);
    expect(m.bytesReclaimed).toBeGreaterThan(64 * MiB);
    expect(m.messagesOnDisk).toBe(0);
    expect(m.writeAmplification).toBeGreaterThan(1);
    expect(m.writeAmplification).toBeLessThan(1.1); // one copy of each body, plus framing and acks
    expect(m.compaction.bytesWritten).toBe(0); // deletion alone did it
    await s.close();
    expect(await dirBytes(dir)).toBeLessThan(64 * 1024);
  }, 60_000);

  it('keeps a segment while its ACK records still cancel a message in an older one', async () => {
    const dir = await tempDir();
    const s = await open(dir, { reclaim: { intervalMs: 60_000, idleRolloverMs: 60_000 } });
    put(s, 1, 1, Buffer.alloc(1000)); // stays live, pins segment 1
    let seq = 1;
    for (let i = 0; i < 500; i++) put(s, 1, ++seq, Buffer.alloc(1000));
    await s.flush();
    s.rollover();
    // the ACKs of segment 1's messages go into segment 2, among queue 2's messages
    for (let q = 2; q <= seq; q++) s.ack(1, q);
    for (let i = 0; i < 300; i++) put(s, 2, i + 1, Buffer.alloc(1000));
    await s.flush();
    for (let i = 0; i < 300; i++) s.ack(2, i + 1);
    await s.flush();
    s.rollover();
    put(s, 3, 1, 'next');
    await s.flush();
    await s.reclaimNow();
    // segment 2 holds nothing live, but deleting it would bring segment 1's acked messages back
    expect(await segmentFiles(dir)).toHaveLength(3);
    const r = await open(await crashCopy(dir), { reclaim: { intervalMs: 60_000 } });
    expect((await readAll(r, 1)).map((m) => m.seq)).toEqual([1]);
    expect(r.queueLength(2)).toBe(0);
    await r.close();
    // once the pinning message goes, everything can
    s.ack(1, 1);
    s.ack(3, 1);
    await s.flush();
    s.rollover();
    put(s, 3, 2, 'tail');
    await s.flush();
    await s.reclaimNow();
    expect(await segmentFiles(dir)).toHaveLength(1);
    await s.close();
  });

  it('copies forward the live records of mostly dead segments, then deletes them', async () => {
    const dir = await tempDir();
    const s = await open(dir, { reclaim: { intervalMs: 60_000, idleRolloverMs: 60_000, compactLagSegments: 1, compactMinAgeMs: 0, compactMinBytes: 64 * 1024, maxCompactionBytesPerSecond: 1024 * MiB } });
    const body = Buffer.alloc(2000, 2);
    let seq = 0;
    const slow: number[] = [];
    for (let i = 0; i < 5000; i++) {
      seq++;
      if (i % 10 === 0) {
        s.appendMessage(msg(`slow-${seq}`), props(), 0, [2], [seq], 1);
        slow.push(seq);
      } else s.appendMessage(msg(body), props(), 0, [1], [seq], 1);
    }
    await s.flush();
    for (let q = 1; q <= seq; q++) s.ack(1, q);
    await s.flush();
    s.rollover();
    await s.flush();
    const before = await dirBytes(dir);
    await s.reclaimNow();
    const after = await dirBytes(dir);
    const m = s.metrics();
    expect(m.compaction.runs).toBeGreaterThan(0);
    expect(m.compaction.bytesWritten).toBeGreaterThan(0);
    expect(m.compaction.bytesWritten).toBeLessThan(before / 5);
    expect(after).toBeLessThan(before / 4);
    expect(m.writeAmplification).toBeGreaterThan(1);
    expect(m.spaceAmplification).toBeLessThan(4);
    // the slow queue is intact and in order, now and after a crash
    expect((await readAll(s, 2)).map((x) => x.seq)).toEqual(slow);
    const r = await open(await crashCopy(dir), { reclaim: { intervalMs: 60_000 } });
    expect(bodies(await readAll(r, 2))).toEqual(slow.map((q) => `slow-${q}`));
    expect(r.queueLength(1)).toBe(0);
    await r.close();
    await s.close();
  });

  it('copies a fanned-out message with only its live targets', async () => {
    const dir = await tempDir();
    const s = await open(dir, { reclaim: { intervalMs: 60_000, idleRolloverMs: 60_000, compactLagSegments: 1, compactMinAgeMs: 0, compactMinBytes: 64 * 1024 } });
    let seq = 0;
    for (let i = 0; i < 3000; i++) {
      seq++;
      s.appendMessage(msg(Buffer.alloc(500, i % 256)), props(), 0, [1, 2, 3], [seq, seq, seq], 3);
    }
    await s.flush();
    // queue 1 and 2 consume everything; queue 3 keeps one message in twenty
    for (let q = 1; q <= seq; q++) {
      s.ack(1, q);
      s.ack(2, q);
      if (q % 20 !== 0) s.ack(3, q);
    }
    await s.flush();
    s.rollover();
    await s.flush();
    await s.reclaimNow();
    expect(s.metrics().compaction.runs).toBeGreaterThan(0);
    const r = await open(await crashCopy(dir), { reclaim: { intervalMs: 60_000 } });
    expect(r.queueLength(1) + r.queueLength(2)).toBe(0);
    const kept = await readAll(r, 3);
    expect(kept.map((m) => m.seq)).toEqual(Array.from({ length: 150 }, (_, i) => (i + 1) * 20));
    expect(kept.every((m, i) => m.body.equals(Buffer.alloc(500, ((i + 1) * 20 - 1) % 256)))).toBe(true);
    await r.close();
    await s.close();
  });

  it('removes a deleted queue and a purged queue from the disk', async () => {
    const dir = await tempDir();
    const s = await open(dir);
    for (let i = 1; i <= 2000; i++) s.appendMessage(msg(Buffer.alloc(1000)), props(), 0, [1, 2], [i, i], 2);
    await s.flush();
    expect(s.deleteQueue(1)).toBe(2000);
    expect(s.purge(2, 2000)).toBe(2000);
    await s.flush();
    await waitFor(async () => (await dirBytes(dir)) < 64 * 1024);
    await s.close();
    const r = await open(dir);
    expect(r.queueIds()).toEqual([]);
    await r.close();
  });
});
