import { copyFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from '../../src/store/file-store.js';
import { TRANSIENT_MESSAGE } from '../../src/store/message-store.js';
import { RECORD_HEADER_SIZE, lsnOffset, lsnSegment, segmentFileName } from '../../src/store/format.js';
import { DamagedRecordError } from '../../src/store/message-reader.js';
import { bodies, cleanupTempDirs, logSink, msg, props, put, read, readAll, segmentFiles, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/**
 * What a `kill -9` leaves: the segment files as they are now (the running store is simply
 * abandoned — it never gets to close).
 */
async function crashCopy(dir: string): Promise<string> {
  const to = await tempDir('warren-crash-');
  for (const f of readdirSync(dir)) if (f.endsWith('.wj')) copyFileSync(join(dir, f), join(to, f));
  return to;
}

const open = (dir: string, extra: Partial<FileStoreOptions> = {}) => {
  const sink = logSink();
  return FileStore.open({ dir, log: sink.log, reclaim: { intervalMs: 60_000 }, ...extra }).then((s) => ({ s, lines: sink.lines }));
};

describe('recovery', () => {
  it('brings back live entries, in seq order, after acks, purges and deletes', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    for (let i = 1; i <= 10; i++) s.appendMessage(msg(`m${i}`), props(), 0, [1, 2, 3], [i, i, i], 3);
    s.ack(1, 2);
    s.ack(1, 5);
    s.purge(2, 6, [3]);
    s.deleteQueue(3);
    put(s, 4, 1, 'alone');
    await s.flush();
    const { s: r } = await open(await crashCopy(dir));
    expect(bodies(await readAll(r, 1))).toEqual(['m1', 'm3', 'm4', 'm6', 'm7', 'm8', 'm9', 'm10']);
    expect(bodies(await readAll(r, 2))).toEqual(['m3', 'm7', 'm8', 'm9', 'm10']);
    expect(await readAll(r, 3)).toEqual([]);
    expect(bodies(await readAll(r, 4))).toEqual(['alone']);
    expect(r.queueIds()).toEqual([1, 2, 4]);
    expect(r.recovery).toMatchObject({ uncleanShutdown: true, queues: 3, messages: 14, truncated: [], damaged: [] });
    // one record for every queue it reached: the same msg id
    const m3 = (await readAll(r, 1)).find((m) => m.seq === 3);
    expect(m3?.msgId).toBe((await readAll(r, 2))[0].msgId);
    await r.close();
    await s.close();
  });

  it('flags everything redelivered after an unclean stop, only delivered entries after a clean one', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    for (let i = 1; i <= 5; i++) put(s, 1, i, `m${i}`);
    s.markDelivered(1, 2);
    s.markDelivered(1, 4);
    s.ack(1, 4);
    await s.flush();
    const crashed = await crashCopy(dir);
    await s.close();

    const { s: clean } = await open(dir);
    expect(clean.recovery.uncleanShutdown).toBe(false);
    expect((await readAll(clean, 1)).map((m) => [m.seq, m.redelivered])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [5, false],
    ]);
    // and again: the flag survives a second clean restart
    await clean.close();
    const { s: again } = await open(dir);
    expect((await readAll(again, 1)).filter((m) => m.redelivered).map((m) => m.seq)).toEqual([2]);
    await again.close();

    const { s: unclean } = await open(crashed);
    expect(unclean.recovery.uncleanShutdown).toBe(true);
    expect((await readAll(unclean, 1)).every((m) => m.redelivered)).toBe(true);
    await unclean.close();
  });

  it('never hands out a seq that a surviving record names', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    for (let i = 1; i <= 5; i++) put(s, 1, i, `m${i}`);
    for (let i = 1; i <= 5; i++) s.ack(1, i);
    put(s, 2, 1, 'x');
    s.purge(2, 1);
    await s.flush();
    const { s: r } = await open(await crashCopy(dir));
    expect(r.queueLength(1)).toBe(0);
    expect(r.nextSeq(1)).toBe(6);
    expect(r.nextSeq(2)).toBe(2);
    expect(() => put(r, 1, 5, 'reuse')).toThrow(RangeError);
    put(r, 1, 6, 'next');
    expect(bodies(await readAll(r, 1))).toEqual(['next']);
    await r.close();
    await s.close();
  });

  it('does not bring back transient messages paged through the journal', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    put(s, 1, 1, 'persistent');
    s.appendMessage(msg('transient'), props(), 0, [1, 2], [2, 1], 2, TRANSIENT_MESSAGE);
    put(s, 1, 3, 'persistent too');
    expect(bodies(await readAll(s, 1))).toEqual(['persistent', 'transient', 'persistent too']);
    expect(s.metrics().userPayloadBytes).toBe('persistent'.length + 'persistent too'.length + 2 * props().length);
    await s.flush();
    const { s: r } = await open(await crashCopy(dir));
    expect(bodies(await readAll(r, 1))).toEqual(['persistent', 'persistent too']);
    expect(r.queueIds()).toEqual([1]);
    expect(r.nextSeq(2)).toBe(2); // its seq is not handed out again
    await r.close();
    await s.close();
  });

  it('drops references to queues the metadata no longer knows', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    s.appendMessage(msg('both'), props(), 0, [1, 2], [1, 1], 2);
    await s.flush();
    const { s: r } = await open(await crashCopy(dir), { isKnownQueue: (q) => q === 2 });
    expect(r.queueIds()).toEqual([2]);
    expect(r.recovery.unknownQueueRefs).toBe(1);
    await r.close();
    await s.close();
  });

  it('continues from the recovered state: new segments, then a second recovery', async () => {
    const dir = await tempDir();
    const { s } = await open(dir);
    for (let i = 1; i <= 3; i++) put(s, 1, i, `a${i}`);
    await s.flush();
    const copy = await crashCopy(dir);
    const { s: r1 } = await open(copy);
    put(r1, 1, 4, 'b4');
    r1.ack(1, 1);
    await r1.flush();
    const { s: r2 } = await open(await crashCopy(copy));
    expect(bodies(await readAll(r2, 1))).toEqual(['a2', 'a3', 'b4']);
    expect((await segmentFiles(copy)).length).toBe(2);
    await Promise.all([s.close(), r1.close(), r2.close()]);
  });
});

describe('torn and corrupt records', () => {
  /** A store with `n` single-queue messages of varied sizes; returns where each record ends. */
  async function build(n: number, segmentSize = 16 * 1024 * 1024) {
    const dir = await tempDir();
    const { s } = await open(dir, { segmentSize });
    const ends: { segment: number; end: number }[] = [];
    for (let i = 1; i <= n; i++) {
      const lsn = put(s, 1, i, `message-${i}-${'x'.repeat((i * 7) % 40)}`);
      ends.push({ segment: lsnSegment(lsn), end: lsnOffset(lsn) });
    }
    await s.flush();
    return { dir, s, ends };
  }

  const expected = (k: number) => Array.from({ length: k }, (_, i) => `message-${i + 1}-${'x'.repeat(((i + 1) * 7) % 40)}`);

  it('cuts a torn last record at every byte offset (and the two before at every 4th) keeping every record before it', async () => {
    const n = 12;
    const { dir, s, ends } = await build(n);
    const segment = ends[0].segment;
    const first = n - 3; // the last three records, every offset
    const start = ends[first - 1].end;
    const fileEnd = ends[n - 1].end;
    const lastStart = ends[n - 2].end;
    for (let cut = start; cut < fileEnd; cut += cut < lastStart ? 4 : 1) {
      const copy = await crashCopy(dir);
      truncateSync(join(copy, segmentFileName(segment)), cut);
      const { s: r, lines } = await open(copy);
      const kept = ends.filter((e) => e.end <= cut).length;
      expect(bodies(await readAll(r, 1))).toEqual(expected(kept));
      const recordStart = kept === 0 ? 32 : ends[kept - 1].end;
      if (cut === recordStart) {
        expect(r.recovery.truncated).toEqual([]);
      } else {
        expect(r.recovery.truncated).toHaveLength(1);
        const t = r.recovery.truncated[0];
        expect(t).toMatchObject({ segment, offset: recordStart, bytes: cut - recordStart });
        expect(t.reason).toMatch(/torn/);
        expect(lines.some((l) => l.level === 'warn' && l.message.includes(`${cut - recordStart} bytes`))).toBe(true);
        expect(r.metrics().recovery.truncatedBytes).toBe(cut - recordStart);
      }
      // the cut is physical: the file now ends at the last good record
      expect(statSync(join(copy, segmentFileName(segment))).size).toBe(recordStart);
      // and the store goes on: a new message lands in a new segment and survives a recovery
      // (checked at a sample of the offsets: it costs a few fsyncs each)
      if (cut % 5 !== 0) {
        await r.close();
        continue;
      }
      put(r, 1, kept + 100, 'after');
      await r.flush();
      const { s: r2 } = await open(await crashCopy(copy));
      expect(bodies(await readAll(r2, 1))).toEqual([...expected(kept), 'after']);
      expect(r2.recovery.truncated).toEqual([]);
      await Promise.all([r.close(), r2.close()]);
    }
    await s.close();
  }, 60_000);

  it('cuts at a record whose payload has a flipped byte, reporting what it dropped', async () => {
    const n = 10;
    const { dir, s, ends } = await build(n);
    const segment = ends[0].segment;
    for (const victim of [1, 5, 10]) {
      const copy = await crashCopy(dir);
      const path = join(copy, segmentFileName(segment));
      const buf = readFileSync(path);
      const start = victim === 1 ? 32 : ends[victim - 2].end;
      buf[start + RECORD_HEADER_SIZE + 5] ^= 0x40;
      writeFileSync(path, buf);
      const { s: r } = await open(copy);
      expect(bodies(await readAll(r, 1))).toEqual(expected(victim - 1));
      expect(r.recovery.truncated).toEqual([
        { segment, offset: start, bytes: ends[n - 1].end - start, lsn: segment * 2 ** 32 + start, reason: 'checksum mismatch' },
      ]);
      await r.close();
    }
    await s.close();
  });

  it('skips a corrupt range of a sealed segment and keeps the records after it', async () => {
    const n = 60;
    const { dir, s, ends } = await build(n, 1024);
    const segments = [...new Set(ends.map((e) => e.segment))];
    expect(segments.length).toBeGreaterThan(3);
    const sealed = segments[1];
    const inSealed = ends.map((e, i) => ({ ...e, i })).filter((e) => e.segment === sealed);
    const victim = inSealed[1]; // the second record of that segment
    const copy = await crashCopy(dir);
    const path = join(copy, segmentFileName(sealed));
    const buf = readFileSync(path);
    buf[inSealed[0].end + RECORD_HEADER_SIZE + 3] ^= 0xff;
    writeFileSync(path, buf);
    const { s: r, lines } = await open(copy);
    const got = (await readAll(r, 1)).map((m) => m.seq);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i + 1).filter((seq) => seq !== victim.i + 1));
    expect(r.recovery.damaged).toHaveLength(1);
    expect(r.recovery.damaged[0]).toMatchObject({ segment: sealed, offset: inSealed[0].end, reason: 'checksum mismatch' });
    expect(r.recovery.truncated).toEqual([]);
    expect(lines.some((l) => l.level === 'error' && l.message.includes('damaged bytes'))).toBe(true);
    await r.close();
    await s.close();
  });

  it('sets aside a sealed segment with a bad header, removes a torn new one, ignores foreign files', async () => {
    const n = 40;
    const { dir, s, ends } = await build(n, 1024);
    const segments = [...new Set(ends.map((e) => e.segment))];
    const copy = await crashCopy(dir);
    const bad = join(copy, segmentFileName(segments[0]));
    const buf = readFileSync(bad);
    buf[2] ^= 1; // magic
    writeFileSync(bad, buf);
    const last = segments[segments.length - 1] + 1;
    writeFileSync(join(copy, segmentFileName(last)), Buffer.from('WRNJ\x01')); // torn at creation
    writeFileSync(join(copy, '.nfs000001'), 'foreign');
    writeFileSync(join(copy, 'notes.txt'), 'foreign');
    const { s: r } = await open(copy);
    const lost = ends.filter((e) => e.segment === segments[0]).length;
    expect((await readAll(r, 1)).length).toBe(n - lost);
    expect(r.recovery.damaged[0]).toMatchObject({ segment: segments[0], reason: 'bad magic' });
    expect(r.recovery.truncated[0]).toMatchObject({ segment: last, bytes: 5 });
    expect(r.recovery.removedFiles.sort()).toEqual([segmentFileName(segments[0]), segmentFileName(last)].sort());
    expect(readdirSync(copy)).toContain(`${segmentFileName(segments[0])}.corrupt`);
    await r.close();
    await s.close();
  });

  it('verifies checksums on read-back: a rotten record is reported, the others delivered', async () => {
    const { dir, s, ends } = await build(5);
    const path = join(dir, segmentFileName(ends[0].segment));
    const buf = readFileSync(path);
    buf[ends[2].end - 3] ^= 0x01; // the body of message 3, on disk under a running store
    writeFileSync(path, buf);
    const { messages, error } = await read(s, 1);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 4, 5]);
    expect(error).toBeInstanceOf(DamagedRecordError);
    expect((error as DamagedRecordError).seqs).toEqual([3]);
    expect(s.metrics().reads.errors).toBe(1);
    await s.close();
  });

  it('recovers from a truncation inside the last segment of many', async () => {
    const n = 80;
    const { dir, s, ends } = await build(n, 2048);
    const lastSeg = ends[n - 1].segment;
    const inLast = ends.filter((e) => e.segment === lastSeg);
    const copy = await crashCopy(dir);
    const cut = inLast[0].end + 3;
    truncateSync(join(copy, segmentFileName(lastSeg)), cut);
    const { s: r } = await open(copy);
    expect((await readAll(r, 1)).length).toBe(ends.filter((e) => e.segment < lastSeg).length + 1);
    await r.close();
    await s.close();
  });
});
