import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from '../../src/store/file-store.js';
import { sealRecord } from '../../src/store/format.js';
import { CHUNK_CAPACITY } from '../../src/store/index-chunk.js';
import { bodies, cleanupTempDirs, logSink, msg, props, put, read, readAll, segmentFiles, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/** Offset of the first snapshot record of `type` (records follow the 32-byte header). */
function firstRecordOfType(b: Buffer, type: number): number {
  for (let p = 32; p + 12 <= b.length; p += 12 + b.readUInt32LE(p + 4)) if (b[p + 8] === type) return p;
  throw new Error(`no record of type ${type}`);
}

async function open(dir: string, extra: Partial<FileStoreOptions> = {}) {
  const sink = logSink();
  const s = await FileStore.open({ dir, log: sink.log, reclaim: { intervalMs: 60_000, idleRolloverMs: 60_000 }, ...extra });
  return { s, lines: sink.lines };
}

/** A store with fan-out, acks, a purge, a delete, a fully acked queue and a delivered entry. */
async function populate(dir: string) {
  const { s } = await open(dir, { segmentSize: 4096 });
  for (let i = 1; i <= 60; i++) s.appendMessage(msg(`m${i}-${'x'.repeat(i)}`), props(), 0, [1, 2], [i, i], 2);
  for (let i = 1; i <= 5; i++) put(s, 3, i, `q3-${i}`);
  for (let i = 1; i <= 20; i++) s.ack(1, i);
  s.purge(2, 30, [7]);
  for (let i = 1; i <= 5; i++) s.ack(3, i);
  put(s, 4, 1, 'doomed');
  s.deleteQueue(4);
  s.markDelivered(1, 21);
  await s.flush();
  return s;
}

const gauges = (s: FileStore, withDisk = true) => {
  const m = s.metrics();
  const g = { segments: m.segments, liveBytes: m.liveBytes, messagesOnDisk: m.messagesOnDisk };
  return withDisk ? { ...g, diskBytes: m.diskBytes } : g;
};

describe('clean-shutdown snapshot', () => {
  it('restores exactly what a scan would, without scanning', async () => {
    const dir = await tempDir();
    const s = await populate(dir);
    const before = gauges(s, false); // (the close adds a DELIVERED record: disk bytes grow)
    await s.close();
    expect(existsSync(join(dir, 'snapshot.wx'))).toBe(true);

    const { s: r } = await open(dir);
    expect(r.recovery).toMatchObject({ fromSnapshot: true, uncleanShutdown: false, segmentsScanned: 0, queues: 2 });
    expect(gauges(r, false)).toEqual(before);
    const q1 = await readAll(r, 1);
    expect(q1.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 21));
    expect(q1.filter((m) => m.redelivered).map((m) => m.seq)).toEqual([21]);
    expect(bodies(await readAll(r, 2)).slice(0, 2)).toEqual([`m7-${'x'.repeat(7)}`, `m31-${'x'.repeat(31)}`]);
    expect(r.queueIds()).toEqual([1, 2]);
    expect(r.nextSeq(3)).toBe(6); // fully acked: its seqs are still not reused
    expect(r.nextSeq(1)).toBe(61);
    // the snapshot and the marker are gone: a crash from here is an unclean stop
    expect(readdirSync(dir).filter((f) => !f.endsWith('.wj'))).toEqual(['index-spill']);
    put(r, 1, 61, 'after');
    await r.flush();
    const copy = await tempDir();
    for (const f of readdirSync(dir)) if (f.endsWith('.wj')) writeFileSync(join(copy, f), readFileSync(join(dir, f)));
    const { s: crashed } = await open(copy);
    expect(crashed.recovery.fromSnapshot).toBe(false);
    expect(crashed.recovery.uncleanShutdown).toBe(true);
    expect((await readAll(crashed, 1)).length).toBe(41);
    await Promise.all([r.close(), crashed.close()]);
  });

  it('gives the same state as a scan (snapshot vs scan of the same files)', async () => {
    const dir = await tempDir();
    const s = await populate(dir);
    await s.close();
    const scanned = await tempDir();
    for (const f of readdirSync(dir)) if (f.endsWith('.wj')) writeFileSync(join(scanned, f), readFileSync(join(dir, f)));
    writeFileSync(join(scanned, 'clean-shutdown'), '{}'); // clean, but no snapshot
    const { s: a } = await open(dir);
    const { s: b, lines } = await open(scanned);
    expect(a.recovery.fromSnapshot).toBe(true);
    expect(b.recovery.fromSnapshot).toBe(false);
    expect(lines.some((l) => l.message.includes('no snapshot'))).toBe(true);
    expect(gauges(a)).toEqual(gauges(b));
    for (const q of [1, 2, 3]) {
      const x = await readAll(a, q);
      const y = await readAll(b, q);
      expect(x.map((m) => [m.seq, m.msgId, m.redelivered, m.body.toString()])).toEqual(y.map((m) => [m.seq, m.msgId, m.redelivered, m.body.toString()]));
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a deep, spilled backlog through a clean restart', async () => {
    const dir = await tempDir();
    const { s } = await open(dir, { indexResidentChunks: 2, durability: 'write' });
    const n = CHUNK_CAPACITY * 6 + 5;
    for (let i = 1; i <= n; i++) s.appendMessage(msg(`b${i}`), props(), 0, [1], [i], 1);
    for (let i = 1; i <= n; i += 3) s.ack(1, i);
    expect(s.metrics().indexEntriesSpilled).toBeGreaterThan(0);
    await s.close();
    const { s: r } = await open(dir, { indexResidentChunks: 2 });
    expect(r.recovery.fromSnapshot).toBe(true);
    const all = (await read(r, 1)).messages;
    expect(all.length).toBe(n - Math.ceil(n / 3));
    expect(all.every((m) => m.seq % 3 !== 1 && m.body.toString() === `b${m.seq}`)).toBe(true);
    await r.close();
  });

  it('falls back to a scan when the snapshot is damaged or does not match the files', async () => {
    for (const spoil of ['flip', 'segment-count', 'segment-gone', 'segment-grown', 'no-marker'] as const) {
      const dir = await tempDir();
      const s = await populate(dir);
      await s.close();
      const snap = join(dir, 'snapshot.wx');
      const segs = await segmentFiles(dir);
      if (spoil === 'flip') {
        const b = readFileSync(snap);
        b[b.length - 40] ^= 0x08;
        writeFileSync(snap, b);
      } else if (spoil === 'segment-count') {
        // a SEGMENT record claiming one more cancel target than it holds, checksum valid:
        // read as written, the next record's header would become a cancel target
        const b = readFileSync(snap);
        const at = firstRecordOfType(b, 0x90);
        b.writeUInt32LE(b.readUInt32LE(at + 12 + 16) + 1, at + 12 + 16);
        sealRecord(b.subarray(at, at + 12 + b.readUInt32LE(at + 4)));
        writeFileSync(snap, b);
      } else if (spoil === 'segment-gone') {
        rmSync(join(dir, segs[segs.length - 1]));
      } else if (spoil === 'segment-grown') {
        const p = join(dir, segs[0]);
        writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.alloc(3)]));
      } else rmSync(join(dir, 'clean-shutdown'));
      const { s: r, lines } = await open(dir);
      expect(r.recovery.fromSnapshot, spoil).toBe(false);
      expect(existsSync(snap)).toBe(false);
      if (spoil !== 'no-marker') expect(lines.some((l) => l.message.includes('but scanning')), spoil).toBe(true);
      else expect(r.recovery.uncleanShutdown).toBe(true);
      if (spoil === 'flip' || spoil === 'segment-count' || spoil === 'no-marker') expect((await readAll(r, 1)).length).toBe(40);
      await r.close();
    }
  });
});
