/**
 * The store's disk with every fdatasync/fsync timed for the watchdog (lifeline.ts): a sync
 * in flight longer than `cluster.watchdog_timeout` ends the process, so a leader whose disk
 * hangs does not keep its lease while its confirms wait forever (LavinMQ #2151).
 */
import type { Disk, DiskDirectory, DiskFile, OpenFlags } from '../store/disk/disk.js';
import { ForwardingDisk, SyncWrappedFile } from '../store/disk/forwarding-disk.js';

/** `syncStarted` is called as a sync begins; the function it returns, as it ends (either way). */
type SyncTimer = () => () => void;

async function timed(syncStarted: SyncTimer, op: () => Promise<void>): Promise<void> {
  const done = syncStarted();
  try {
    await op();
  } finally {
    done();
  }
}

class WatchedDisk extends ForwardingDisk {
  readonly #syncStarted: SyncTimer;

  constructor(inner: Disk, syncStarted: SyncTimer) {
    super(inner);
    this.#syncStarted = syncStarted;
  }

  override async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    return new SyncWrappedFile(await this.inner.openFile(path, flags), (sync) => timed(this.#syncStarted, sync));
  }
  override syncDirectory(dir: string): Promise<void> {
    return timed(this.#syncStarted, () => this.inner.syncDirectory(dir));
  }
  override async openDirectory(dir: string): Promise<DiskDirectory> {
    const d = await this.inner.openDirectory(dir);
    return { sync: () => timed(this.#syncStarted, () => d.sync()), close: () => d.close() };
  }
}

export function watchedDisk(disk: Disk, syncStarted: SyncTimer): Disk {
  return new WatchedDisk(disk, syncStarted);
}
