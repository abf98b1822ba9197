import { dirname } from 'node:path';
import type { Disk } from './disk.js';

/**
 * mkdir -p whose result survives a power cut: every directory it creates is named in a
 * parent that is then fsynced. (Syncing only the first one's parent, as the store once did,
 * leaves the deeper names in directories nobody synced: `vhosts/1` in a new `vhosts/`.)
 * @returns whether `dir` was created (false: it existed)
 */
export async function makeDurableDir(disk: Disk, dir: string): Promise<boolean> {
  const created = await disk.mkdir(dir);
  if (created === undefined) return false;
  // sync from the deepest new directory up to the parent of the first one created
  let d = dir;
  for (;;) {
    const parent = dirname(d);
    await disk.syncDirectory(parent);
    if (d === created || parent === d) break;
    d = parent;
  }
  return true;
}
