/**
 * Sealing a journal segment fdatasyncs it only when something was written since its last
 * fdatasync (src/store/log/segment-file.ts): in fsync mode a segment filled by rounds that
 * were each synced is sealed without another sync (a second one covers nothing), in write
 * mode every seal syncs; a power cut keeps every record confirmed (fsync mode) or sealed. On the
 * simulated disk, which counts fdatasync calls and keeps only what they covered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../src/store/file-store.js';
import type { Durability } from '../../../src/store/journal.js';
import { Prng } from '../../helpers/prng.js';
import { SimMachine } from '../../helpers/sim-disk.js';
import { cleanupTempDirs, durable, logSink, msg, props, readAll, tempDir } from '../helpers.js';

afterEach(cleanupTempDirs);

const quiet = { intervalMs: 3_600_000, idleRolloverMs: 3_600_000 };

async function run(durability: Durability): Promise<{ syncs: number; rounds: number; segments: number; recovered: number }> {
  const root = await tempDir('warren-seal-');
  const machine = new SimMachine([root]);
  const dir = `${root}/j`;
  const s = await FileStore.open({ dir, disk: machine.mount(), durability, segmentSize: 64 * 1024, log: logSink().log, reclaim: quiet });
  const before = machine.stats.datasyncs;
  // one record per round, each confirmed before the next: 20 KiB records, three to a segment
  for (let seq = 1; seq <= 12; seq++) {
    expect(await durable(s, s.appendMessage(msg(Buffer.alloc(20 * 1024, seq)), props(), 0, [1], [seq], 1))).toBeNull();
  }
  const syncs = machine.stats.datasyncs - before;
  const m = s.metrics();
  machine.powerCut(new Prng(11));
  const r = await FileStore.open({ dir, disk: machine.mount(), segmentSize: 64 * 1024, log: logSink().log, reclaim: quiet });
  const recovered = (await readAll(r, 1)).filter((x, i) => x.seq === i + 1 && x.body[0] === x.seq).length;
  await r.close();
  return { syncs, rounds: m.flushes, segments: m.segmentsCreated, recovered };
}

describe('sealing a segment', () => {
  it('in fsync mode adds no fdatasync after synced rounds; in write mode syncs each sealed segment; a power cut keeps what each promises', async () => {
    const fsync = await run('fsync');
    expect(fsync.segments).toBeGreaterThanOrEqual(4);
    expect(fsync.syncs).toBe(fsync.rounds); // one per round, none for the seals
    expect(fsync.recovered).toBe(12);
    const write = await run('write');
    expect(write.syncs).toBe(write.segments - 1); // every segment left behind was synced at its seal
    // write mode does not survive a power cut past the last seal; the sealed segments do
    expect(write.recovered).toBeGreaterThanOrEqual((write.segments - 1) * 3);
  });
});
