/**
 * The append observer (src/store/log/append-observer.ts): one observer given to a node's
 * journal and two of its streams sees every byte each of them writes, in order, and each
 * durability point before the confirm it covers. Checked against the segment files on disk
 * and against the confirms the logs hand out. Real files in temp directories.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProperties } from '../../../src/codec/basic-properties.js';
import { FileStore } from '../../../src/store/file-store.js';
import { SEGMENT_HEADER_SIZE, lsnOf, segmentFileName } from '../../../src/store/format.js';
import { journalLogId, streamLogId, type AppendObserver } from '../../../src/store/log/append-observer.js';
import type { Durability } from '../../../src/store/log/group-commit.js';
import { StreamRecordView, readStreamRecord, streamSegmentName } from '../../../src/store/stream/stream-format.js';
import { StreamStore, type StreamConfig } from '../../../src/store/stream/stream-store.js';
import { cleanupTempDirs, logSink, msg, props, tempDir } from '../helpers.js';

afterEach(cleanupTempDirs);

type Event =
  | { kind: 'written'; log: string; segment: number; position: number; bytes: Buffer }
  | { kind: 'durable'; log: string; segment: number; end: number; synced: boolean }
  | { kind: 'sealed'; log: string; segment: number; size: number }
  | { kind: 'confirm'; log: string; at: number };

/** An observer that keeps a copy of everything (the buffers are only lent for the call). */
function recorder(events: Event[]): AppendObserver {
  return {
    written: (log, segment, position, buffers, bytes) => {
      const copy = Buffer.concat(buffers as Buffer[]);
      expect(copy.length).toBe(bytes);
      events.push({ kind: 'written', log, segment, position, bytes: copy });
    },
    durable: (log, segment, end, synced) => void events.push({ kind: 'durable', log, segment, end, synced }),
    sealed: (log, segment, size) => void events.push({ kind: 'sealed', log, segment, size }),
  };
}

const streamConfig = (maxSegmentSize: number): StreamConfig => ({ maxSegmentSize, retention: { maxBytes: -1, maxAgeMs: -1 }, maxSegmentAgeMs: 3_600_000, compaction: null });

async function run(durability: Durability): Promise<void> {
  const root = await tempDir('warren-observer-');
  const events: Event[] = [];
  const observer = recorder(events);
  const journalDir = join(root, 'vhosts', '1');
  const store = await FileStore.open({ dir: journalDir, journalId: 1, durability, segmentSize: 64 * 1024, appendObserver: observer, log: logSink().log });
  const streams = new StreamStore({ dir: join(root, 'streams'), durability, offsets: null, appendObserver: observer });
  await streams.recover(new Map());
  const a = streams.create(11, streamConfig(32 * 1024));
  const b = streams.create(12, streamConfig(32 * 1024));
  const streamProps = encodeProperties({ headers: { h: 1 } });
  const confirm = (log: string, at: number) => ({ onDurable: (_t: number, e: Error | null) => {
    expect(e).toBeNull();
    events.push({ kind: 'confirm', log, at });
  } });
  // 30 turns of appends to all three logs, enough to roll each over a few times
  let seq = 0;
  for (let turn = 0; turn < 30; turn++) {
    for (let i = 0; i < 20; i++) {
      seq++;
      const lsn = store.appendMessage(msg(`m${seq}`.padEnd(200, '.')), props(), 0, [5], [seq], 1);
      store.whenDurable(lsn, confirm(journalLogId(1), lsn), 0);
      for (const [id, log] of [[11, a], [12, b]] as const) {
        const offset = log.append('', `k${seq}`, streamProps, Buffer.from(`s${id}-${seq}`.padEnd(300, '.')), null, 0, Date.now());
        log.whenCommitted(offset, confirm(streamLogId(id), offset), 0);
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  await a.flush();
  await b.flush();
  await streams.close();
  await store.close();

  const logs = [journalLogId(1), streamLogId(11), streamLogId(12)];
  const files = (log: string): Map<number, Buffer> => {
    const out = new Map<number, Buffer>();
    if (log.startsWith('journal/')) {
      for (const n of readdirSync(journalDir).filter((x) => x.endsWith('.wj'))) out.set(Number(n.slice(0, 20)), readFileSync(join(journalDir, n)));
    } else {
      const dir = join(root, 'streams', log.slice('stream/'.length));
      for (const n of readdirSync(dir).filter((x) => x.endsWith('.ws'))) out.set(Number(n.slice(0, 20)), readFileSync(join(dir, n)));
    }
    return out;
  };
  for (const log of logs) {
    const mine = events.filter((e) => e.log === log);
    // every byte, in order: each segment's writes are contiguous from the header on and
    // rebuild the file exactly; segments follow each other
    const written = mine.filter((e): e is Extract<Event, { kind: 'written' }> => e.kind === 'written');
    const bySegment = new Map<number, Buffer[]>();
    let lastSegment = -1;
    let end = 0;
    for (const w of written) {
      if (w.segment !== lastSegment) {
        expect(w.segment).toBeGreaterThan(lastSegment);
        expect(w.position).toBe(SEGMENT_HEADER_SIZE);
        lastSegment = w.segment;
        bySegment.set(w.segment, []);
      } else expect(w.position).toBe(end);
      end = w.position + w.bytes.length;
      (bySegment.get(w.segment) as Buffer[]).push(w.bytes);
    }
    const onDisk = files(log);
    expect([...bySegment.keys()]).toEqual([...onDisk.keys()].sort((x, y) => x - y));
    expect(bySegment.size).toBeGreaterThan(2);
    for (const [segment, parts] of bySegment) expect(Buffer.concat(parts).equals(onDisk.get(segment)!.subarray(SEGMENT_HEADER_SIZE))).toBe(true);
    // every sealed segment is reported at its full size
    const sealed = mine.filter((e): e is Extract<Event, { kind: 'sealed' }> => e.kind === 'sealed');
    for (const s of sealed) expect(s.size).toBe(onDisk.get(s.segment)!.length);

    // durability points: each write is covered by a later durable point of its log, which
    // comes before any confirm that relies on it
    let durableAt = 0; // as an LSN-like position: segment × 2^32 + end
    let maxWritten = 0;
    const streamEnds = new Map<number, number>(); // stream offset → LSN-like end of its record
    if (log.startsWith('stream/')) {
      const view = new StreamRecordView();
      for (const [segment, parts] of bySegment) {
        const buf = Buffer.concat([Buffer.alloc(SEGMENT_HEADER_SIZE), ...parts]);
        for (let at = SEGMENT_HEADER_SIZE; at < buf.length; at = view.end) {
          expect(readStreamRecord(buf, at, buf.length, 1 << 24, view)).toBeNull();
          streamEnds.set(view.offset, lsnOf(segment, view.end));
        }
      }
      expect(streamEnds.size).toBe(600);
    }
    let confirms = 0;
    for (const e of mine) {
      if (e.kind === 'written') maxWritten = lsnOf(e.segment, e.position + e.bytes.length);
      else if (e.kind === 'durable') {
        expect(e.synced).toBe(durability === 'fsync');
        const at = lsnOf(e.segment, e.end);
        expect(at).toBeLessThanOrEqual(maxWritten);
        if (at > durableAt) durableAt = at;
      } else if (e.kind === 'confirm') {
        confirms++;
        const needed = log.startsWith('journal/') ? e.at : (streamEnds.get(e.at) as number);
        expect(needed).toBeGreaterThan(0);
        expect(needed).toBeLessThanOrEqual(durableAt);
      }
    }
    expect(durableAt).toBe(maxWritten);
    expect(confirms).toBe(600);
  }
  // one observer saw all three logs, interleaved
  const firstOf = logs.map((l) => events.findIndex((e) => e.log === l && e.kind === 'written'));
  const lastOf = logs.map((l) => events.findLastIndex((e) => e.log === l && e.kind === 'written'));
  expect(Math.max(...firstOf)).toBeLessThan(Math.min(...lastOf));
  expect(segmentFileName(1)).toMatch(/\.wj$/);
  expect(streamSegmentName(0)).toMatch(/\.ws$/);
}

describe('append observer', () => {
  it('sees every byte of a journal and two streams in order, each durability point before its confirms (fsync)', () => run('fsync'));
  it('reports durability points as unsynced in write mode', () => run('write'));
});
