import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { RecordType, SEGMENT_HEADER_SIZE, lsnOffset, lsnSegment, segmentFileName } from '../../src/store/format.js';
import { scanSegment } from '../../src/store/segment-scanner.js';
import { cleanupTempDirs, durable, logSink, msg, props, put, readAll, segmentFiles, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/** Record types found in a segment file as it is on disk now. */
function recordsOnDisk(dir: string, segment: number): number[] {
  const buf = readFileSync(join(dir, segmentFileName(segment)));
  const types: number[] = [];
  scanSegment(buf, { maxRecordSize: 1 << 30, salvage: false }, (_b, r) => {
    types.push(r.type);
    return true;
  });
  return types;
}

describe('journal group commit', () => {
  it('writes everything appended in one turn with one gather write and one fdatasync', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, log: logSink().log });
    const confirmed: number[] = [];
    const listener = {
      onDurable: (token: number, e: Error | null) => {
        expect(e).toBeNull();
        confirmed.push(token);
      },
    };
    for (let i = 1; i <= 500; i++) s.whenDurable(put(s, 1 + (i % 5), Math.ceil(i / 5), `m${i}`), listener, i);
    expect(confirmed).toEqual([]); // nothing is durable before the flush
    await s.flush();
    const m = s.metrics();
    expect(m.fsyncs).toBe(1);
    expect(m.flushes).toBe(1);
    expect(m.batchRecords.max).toBe(500);
    expect(m.fsyncMicros.count).toBe(1);
    expect(confirmed).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    await s.close();
  });

  it('confirms a record only once it is on disk', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, log: logSink().log });
    const seen: number[][] = [];
    const lsn = put(s, 1, 1, 'payload');
    const segment = lsnSegment(lsn);
    s.whenDurable(lsn, { onDurable: () => void seen.push(recordsOnDisk(dir, segment)) }, 0);
    await durable(s, lsn);
    expect(seen).toEqual([[RecordType.MSG]]);
    expect(lsnOffset(lsn)).toBe(readFileSync(join(dir, segmentFileName(segment))).length);
    await s.close();
  });

  it('forms the next batch from what arrives while a flush is in flight', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, log: logSink().log });
    let seq = 0;
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 50; i++) put(s, 1, ++seq, 'x');
      await new Promise((res) => setImmediate(res));
    }
    await s.flush();
    const m = s.metrics();
    // far fewer syncs than appends, and never more than one per flush
    expect(m.fsyncs).toBe(m.flushes);
    expect(m.fsyncs).toBeLessThanOrEqual(rounds);
    expect(m.batchRecords.sum).toBe(rounds * 50);
    await s.close();
  });

  it('coalesces acks into one ACK record per queue per flush', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, log: logSink().log });
    for (let i = 1; i <= 100; i++) s.appendMessage(msg(`m${i}`), props(), 0, [1, 2], [i, i], 2);
    await s.flush();
    for (let i = 1; i <= 100; i++) {
      s.ack(1, i);
      if (i % 2 === 0) s.ack(2, i);
    }
    await s.flush();
    expect(s.metrics().records.ack).toBe(2);
    await s.close();
  });

  it('in write mode confirms after the write, without fdatasync', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, durability: 'write', log: logSink().log });
    for (let i = 1; i <= 10; i++) put(s, 1, i, 'w');
    await s.flush();
    expect(s.metrics().fsyncs).toBe(0);
    expect(s.metrics().flushes).toBe(1);
    await s.close();
  });

  it('rolls over to a new segment when one is full, and gives a big record a segment of its own', async () => {
    const dir = await tempDir();
    const s = await FileStore.open({ dir, segmentSize: 4096, log: logSink().log });
    for (let i = 1; i <= 40; i++) put(s, 1, i, Buffer.alloc(300, i));
    put(s, 1, 41, Buffer.alloc(10_000, 1));
    await s.flush();
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    const all = await readAll(s, 1);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(all[40].body.length).toBe(10_000);
    await s.close();
    // every segment starts with a header, and sealed ones hold whole records only
    for (const f of files) expect(readFileSync(join(dir, f)).length).toBeGreaterThanOrEqual(SEGMENT_HEADER_SIZE);
  });

  it('becomes read-only after a failed write, failing waiters and refusing appends', async () => {
    const dir = await tempDir();
    const { log, lines } = logSink();
    const s = await FileStore.open({ dir, segmentSize: 4096, log });
    put(s, 1, 1, 'ok');
    await s.flush();
    // the next segment's name is taken: creating it fails (as a full or broken disk would)
    writeFileSync(join(dir, segmentFileName(2)), 'in the way');
    let seq = 1;
    const results: (Error | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const lsn = put(s, 1, ++seq, Buffer.alloc(500));
      s.whenDurable(lsn, { onDurable: (_t, e) => void results.push(e) }, i);
    }
    await expect(s.flush()).rejects.toThrow();
    expect(results.filter((e) => e !== null).length).toBeGreaterThan(0);
    expect(s.failure).toBeInstanceOf(Error);
    expect(s.metrics().readOnly).toBe(true);
    expect(s.metrics().writeErrors).toBe(1);
    expect(() => put(s, 1, 100, 'refused')).toThrow(/read-only/);
    // a late waiter hears about the failure too
    expect(await durable(s, Number.MAX_SAFE_INTEGER)).toBeInstanceOf(Error);
    expect(lines.some((l) => l.level === 'error' && /read-only/.test(l.message))).toBe(true);
    await s.close();
  });
});
