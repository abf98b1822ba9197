/**
 * Torn and corrupt journal records at broker level (docs/reliability.md): a broker
 * stops with persistent messages queued; the test damages a segment file the way a crash or a
 * bad disk would; the next broker must start, say in its 'vhost recovered' line what it
 * dropped, and deliver every message before the damage, in order (docs/store.md decision 10:
 * point-in-time cut of the last segment, salvage of sealed ones).
 */
import { closeSync, openSync, readSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordType } from '../../src/store/format.js';
import { drainNumbers, journalDir, publishNumbered, recordsOf, removeTempDirs, segmentFiles, startOn, tempDir, type JournalRecord } from './helpers.js';

afterEach(removeTempDirs);

const MIB = 1024 * 1024;
const SIZE = 9000;
/** ~2.7 MB of messages over 1 MiB segments: two sealed segments and a last one */
const COUNT = 300;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Publish COUNT messages to 'torn' and stop; returns the data directory. With `crashed`, the
 * clean-shutdown marker and snapshot are removed afterwards: the files are then exactly what
 * a kill -9 after the last confirm leaves (the journal is written before any confirm), and
 * the next start scans every record.
 */
async function brokerWithBacklog(crashed: boolean): Promise<string> {
  const dir = tempDir('warren-torn-');
  const b = await startOn(dir, { segmentSize: MIB });
  try {
    await publishNumbered(b.url, 'torn', 0, COUNT, SIZE);
  } finally {
    await b.broker.stop();
  }
  if (crashed) {
    for (const f of ['clean-shutdown', 'snapshot.wx']) rmSync(join(journalDir(dir), f));
  }
  return dir;
}

/** The segments that hold MSG records, with those records. */
function messageSegments(dir: string): { path: string; msgs: JournalRecord[] }[] {
  return segmentFiles(journalDir(dir))
    .map((path) => ({ path, msgs: recordsOf(path).filter((r) => r.type === RecordType.MSG) }))
    .filter((s) => s.msgs.length > 0);
}

function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] ^= 0x5a;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

/** Start on the damaged directory: the recovery line, and the queue drained in order. */
async function recoverAndDrain(dir: string) {
  const b = await startOn(dir, { segmentSize: MIB });
  try {
    const recovered = b.recovered();
    const numbers = await drainNumbers(b.url, 'torn');
    return { recovered, numbers, logs: b.logs };
  } finally {
    await b.broker.stop();
  }
}

describe('torn and corrupt journal records', () => {
  it('a last segment cut in the middle of its last record: that record is dropped and reported, everything before it delivered', async () => {
    const dir = await brokerWithBacklog(true);
    const segs = messageSegments(dir);
    expect(segs.length).toBeGreaterThanOrEqual(3);
    const last = segs[segs.length - 1];
    const tail = last.msgs[last.msgs.length - 1];
    expect(tail.number).toBe(COUNT - 1);
    // a crash in the middle of writing the last record: its header is there, half its payload
    const cut = tail.payloadAt + Math.floor(tail.length / 2);
    const sizeBefore = statSync(last.path).size;
    truncateSync(last.path, cut);

    const { recovered, numbers } = await recoverAndDrain(dir);
    expect(recovered.truncated).toEqual([expect.objectContaining({ bytes: cut - tail.offset })]);
    expect(recovered.damaged).toEqual([]);
    expect(recovered.messages).toBe(COUNT - 1);
    expect(numbers).toEqual(range(0, COUNT - 1));
    expect(sizeBefore).toBeGreaterThan(cut);
  });

  it('a flipped payload byte in the last segment: the tail from that record on is cut and reported, everything before it delivered', async () => {
    const dir = await brokerWithBacklog(true);
    const segs = messageSegments(dir);
    const last = segs[segs.length - 1];
    const victim = last.msgs[Math.floor(last.msgs.length / 2)];
    flipByte(last.path, victim.payloadAt + victim.length - 100);

    const { recovered, numbers } = await recoverAndDrain(dir);
    expect(recovered.truncated).toEqual([expect.objectContaining({ offset: victim.offset })]);
    expect(recovered.damaged).toEqual([]);
    expect(numbers).toEqual(range(0, victim.number));
  });

  it('a flipped payload byte in a sealed segment: that record is skipped and reported, the messages before and after it delivered', async () => {
    const dir = await brokerWithBacklog(true);
    const segs = messageSegments(dir);
    const sealed = segs[0];
    const victim = sealed.msgs[Math.floor(sealed.msgs.length / 2)];
    flipByte(sealed.path, victim.payloadAt + victim.length - 100);

    const { recovered, numbers } = await recoverAndDrain(dir);
    expect(recovered.truncated).toEqual([]);
    expect(recovered.damaged).toEqual([expect.objectContaining({ bytes: expect.any(Number) })]);
    expect(numbers).toEqual(range(0, COUNT).filter((n) => n !== victim.number));
  });

  it('a flipped payload byte after a clean stop (no scan: the snapshot is trusted): found when read, reported, the rest delivered, and gone for good', async () => {
    const dir = await brokerWithBacklog(false);
    const segs = messageSegments(dir);
    const victim = segs[1].msgs[3];
    flipByte(segs[1].path, victim.payloadAt + victim.length - 100);

    const { recovered, numbers, logs } = await recoverAndDrain(dir);
    expect(recovered.cleanShutdown).toBe(true);
    expect(numbers).toEqual(range(0, COUNT).filter((n) => n !== victim.number));
    const warning = logs.find((l) => l.level === 'warn' && /checksum/.test(l.msg));
    expect(warning, JSON.stringify(logs.filter((l) => l.level !== 'info'))).toBeDefined();
    // dropped from the journal too: it is not counted, nor read again, at the next start
    const again = await startOn(dir, { segmentSize: MIB });
    try {
      expect(again.recovered().messages).toBe(0);
      expect(again.broker.core.vhosts.get('/')!.queues.get('torn')!.messageCount).toBe(0);
    } finally {
      await again.broker.stop();
    }
  });
});
