/**
 * The journal directory's fsync (src/store/directory-sync.ts), shared by segment creation and
 * reclaim through one directory handle: the tombstone rule (docs/store.md decision 8) holds: a
 * segment whose cancel records kill MSGs of a deleted segment is unlinked only after a
 * directory sync that started once that unlink had finished.
 * Real files in a temp directory, behind a disk that records the calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DiskDirectory } from '../../src/store/disk/disk.js';
import { ForwardingDisk } from '../../src/store/disk/forwarding-disk.js';
import { realDisk } from '../../src/store/disk/real-disk.js';
import { FileStore } from '../../src/store/file-store.js';
import { cleanupTempDirs, logSink, msg, props, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/** The real disk, recording unlinks and directory syncs in the order they start and end. */
class RecordingDisk extends ForwardingDisk {
  readonly events: string[] = [];

  constructor() {
    super(realDisk);
  }

  override async unlink(path: string): Promise<void> {
    const name = path.slice(path.lastIndexOf('/') + 1);
    this.events.push(`unlink ${name} start`);
    await this.inner.unlink(path);
    this.events.push(`unlink ${name} end`);
  }

  override async syncDirectory(dir: string): Promise<void> {
    this.events.push('dirsync start');
    await this.inner.syncDirectory(dir);
    this.events.push('dirsync end');
  }

  override async openDirectory(dir: string): Promise<DiskDirectory> {
    const d = await this.inner.openDirectory(dir);
    return {
      sync: async () => {
        this.events.push('dirsync start');
        await d.sync();
        this.events.push('dirsync end');
      },
      close: () => d.close(),
    };
  }
}

const quiet = { intervalMs: 3_600_000, idleRolloverMs: 3_600_000 };
const body = Buffer.alloc(20 * 1024, 7);

describe('journal directory syncs', () => {
  it('a segment whose ACK records kill MSGs of a deleted segment is unlinked only after a directory sync covering that deletion', async () => {
    const dir = await tempDir('warren-dirsync-');
    const disk = new RecordingDisk();
    const s = await FileStore.open({ dir, disk, elideMinBytes: Infinity, log: logSink().log, reclaim: quiet });
    // segment 1: seq 1 of queue 1, and a message of queue 3 that keeps it until the end
    s.appendMessage(msg(body), props(), 0, [1], [1], 1);
    s.appendMessage(msg(body), props(), 0, [3], [1], 1);
    await s.flush();
    s.rollover();
    s.appendMessage(msg(body), props(), 0, [1], [2], 1); // segment 2, with the ACK of seq 1
    s.ack(1, 1, true);
    await s.flush();
    s.rollover();
    s.appendMessage(msg(body), props(), 0, [1], [3], 1); // segment 3, with the ACK of seq 2 (3 stays live)
    s.ack(1, 2, true);
    await s.flush();
    s.rollover();
    s.appendMessage(msg(body), props(), 0, [2], [1], 1); // segment 4: segment 3 is sealed
    // now segment 1 can go, and segment 2 (its ACK record kills seq 1 there) right after it
    s.ack(3, 1, true);
    await s.flush();
    await s.reclaimNow();
    const e = disk.events;
    const seg = (n: number): string => `${String(n).padStart(20, '0')}.wj`;
    const firstGone = e.indexOf(`unlink ${seg(1)} end`);
    const secondStarts = e.indexOf(`unlink ${seg(2)} start`);
    expect(firstGone).toBeGreaterThanOrEqual(0);
    expect(secondStarts).toBeGreaterThan(firstGone);
    // a sync started after segment 1's unlink returned, and finished before segment 2's began
    // (a sync that started before the unlink returned may end in between: it does not count)
    const between = e.slice(firstGone, secondStarts);
    const started = between.indexOf('dirsync start');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(between.indexOf('dirsync end', started)).toBeGreaterThan(started);
    // both gone for good once reclaim settled; segment 3 (a live MSG) stays
    expect(s.metrics().segmentsDeleted).toBe(2);
    expect(e.some((x) => x.startsWith(`unlink ${seg(3)}`))).toBe(false);
    await s.close();
  });
});
