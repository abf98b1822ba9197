import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import type { LargeBody } from '../../src/store/large-body.js';
import { cleanupTempDirs, durable, logSink, props, readAll, segmentFiles, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const MiB = 1024 * 1024;

const open = (dir: string) =>
  FileStore.open({
    dir,
    log: logSink().log,
    segmentSize: 2 * MiB,
    reclaim: { intervalMs: 20, idleRolloverMs: 50, compactMinBytes: 64 * 1024, compactLagSegments: 1, compactMinAgeMs: 0 },
  });

/** Stream `body` into the store in pieces of `piece` bytes; @returns the finished LargeBody. */
function write(s: FileStore, body: Buffer, piece: number): LargeBody {
  const w = s.beginBody(body.length);
  for (let at = 0; at < body.length; at += piece) w.append(body.subarray(at, Math.min(body.length, at + piece)));
  return w.finish();
}

/** Read a body back part by part, as a delivery does, hashing it. */
function readBack(body: LargeBody): Promise<{ hash: string; bytes: number; reads: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  let reads = 0;
  return new Promise((resolve, reject) => {
    const next = (from: number): void => {
      if (from >= body.partCount) return resolve({ hash: h.digest('hex'), bytes, reads });
      body.read(from, MiB, (error, chunks, after) => {
        if (error) return reject(error);
        reads++;
        for (const c of chunks) {
          h.update(c);
          bytes += c.length;
        }
        next(after);
      });
    };
    next(0);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const message = (bodyRef: LargeBody) => ({ exchange: 'ex', routingKey: 'rk', body: Buffer.alloc(0), bodyRef, publishedAt: Date.now(), priority: 0 });

describe('large bodies in the journal', () => {
  it('streams a body in as parts, names it from a MSG, reads it back part by part, and gives the space back once acked', async () => {
    const dir = await tempDir();
    const s = await open(dir);
    const data = randomBytes(9 * MiB + 12345);
    // round fdatasyncs (the histogram leaves out the seals of full segments)
    const roundSyncs = () => s.metrics().fsyncMicros.count;
    const fsyncsBefore = roundSyncs();
    const body = write(s, data, 131_064); // AMQP frames of frame_max 128 KiB
    expect(body.size).toBe(data.length);
    // rounds of parts alone are written without an fdatasync (no confirm waits for them): only
    // the seals of the segments they filled sync
    await new Promise<void>((resolve, reject) => s.beginBody(1).whenWritten((e) => (e ? reject(e) : resolve())));
    expect(s.metrics().flushes).toBeGreaterThan(2);
    expect(roundSyncs() - fsyncsBefore).toBe(0);
    expect(body.partCount).toBe(Math.ceil(data.length / (256 * 1024)));
    const lsn = s.appendMessage(message(body), props(), 0, [1, 2], [1, 1], 2);
    expect(await durable(s, lsn)).toBeNull();
    expect(roundSyncs() - fsyncsBefore).toBe(1); // the MSG's round syncs, covering the parts before it
    const back = await readBack(body);
    expect(back.bytes).toBe(data.length);
    expect(back.hash).toBe(sha(data));
    expect(s.queueBytes(1)).toBe(data.length);

    // read back through the queue's index: the stored message names the same body
    const [stored] = await readAll(s, 2);
    expect(stored.body.length).toBeGreaterThan(0); // the part list
    expect(stored.bodyRef?.size).toBe(data.length);
    expect((await readBack(stored.bodyRef!)).hash).toBe(sha(data));

    const before = (await segmentFiles(dir)).length;
    expect(before).toBeGreaterThanOrEqual(5);
    s.ack(1, 1);
    s.ack(2, 1);
    await s.flush();
    s.rollover();
    // the LargeBody objects above still hold the parts until they are garbage-collected
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    await s.close();
  });

  it('after a crash, parts without their MSG are dropped and their segments reclaimed; a named body survives', async () => {
    const dir = await tempDir();
    const s = await open(dir);
    const kept = randomBytes(3 * MiB);
    const body = write(s, kept, 65_536);
    const lsn = s.appendMessage(message(body), props(), 0, [7], [1], 1);
    expect(await durable(s, lsn)).toBeNull();
    // a second body abandoned half way (the publisher's connection dropped)
    const w = s.beginBody(6 * MiB);
    w.append(randomBytes(4 * MiB));
    await s.flush();
    // no close: a copy of the files is opened, as after kill -9
    const copy = await tempDir('warren-crash-');
    for (const f of readdirSync(dir)) if (f.endsWith('.wj')) copyFileSync(join(dir, f), join(copy, f));
    const withOrphans = (await segmentFiles(copy)).length;
    expect(withOrphans).toBeGreaterThanOrEqual(4);
    const again = await open(copy);
    expect(again.recovery.uncleanShutdown).toBe(true);
    expect(again.queueLength(7)).toBe(1);
    const [stored] = await readAll(again, 7);
    expect((await readBack(stored.bodyRef!)).hash).toBe(sha(kept));
    await again.reclaimNow();
    // the abandoned parts' segments are gone; the named body's are kept
    const after = (await segmentFiles(copy)).length;
    expect(after).toBeLessThan(withOrphans);
    expect(again.metrics().diskBytes).toBeLessThan(5 * MiB);
    expect((await readBack(stored.bodyRef!)).hash).toBe(sha(kept));
    await again.close();
    w.abort();
    await s.close();
  });
});
