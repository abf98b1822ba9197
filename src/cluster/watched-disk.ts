/**
 * The store's disk with every fdatasync/fsync timed for the watchdog (lifeline.ts): a sync
 * in flight longer than `cluster.watchdog_timeout` ends the process, so a leader whose disk
 * hangs does not keep its lease while its confirms wait forever (LavinMQ #2151).
 */
import type { Disk, DiskFile } from '../store/disk/disk.js';

export function watchedDisk(disk: Disk, syncStarted: () => () => void): Disk {
  const timed = async (op: () => Promise<void>) => {
    const done = syncStarted();
    try {
      await op();
    } finally {
      done();
    }
  };
  const wrapFile = (f: DiskFile): DiskFile => ({
    writev: (b, p) => f.writev(b, p),
    read: (b, o, l, p) => f.read(b, o, l, p),
    datasync: () => timed(() => f.datasync()),
    sync: () => timed(() => f.sync()),
    size: () => f.size(),
    close: () => f.close(),
  });
  return Object.assign(Object.create(disk) as Disk, {
    openFile: async (path: string, flags: Parameters<Disk['openFile']>[1]) => wrapFile(await disk.openFile(path, flags)),
    syncDirectory: (dir: string) => timed(() => disk.syncDirectory(dir)),
  });
}
