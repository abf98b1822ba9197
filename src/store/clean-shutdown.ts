import { join } from 'node:path';
import type { Disk } from './disk/disk.js';
import { writeFully } from './log/segment-file.js';

/**
 * The clean-shutdown marker of a journal directory: written last by a clean close, removed
 * first by the next open. Found at open, it means the journal was flushed and its DELIVERED
 * records written; missing, the stop was a crash and every recovered entry is flagged
 * redelivered (it may have been delivered before).
 */
const MARKER = 'clean-shutdown';

export function hasCleanMarker(disk: Disk, dir: string): Promise<boolean> {
  return disk.exists(join(dir, MARKER));
}

/** From here on, a crash is an unclean stop again. */
export async function removeCleanMarker(disk: Disk, dir: string): Promise<void> {
  await disk.unlink(join(dir, MARKER));
  await disk.syncDirectory(dir);
}

export async function writeCleanMarker(disk: Disk, dir: string, endLsn: number): Promise<void> {
  const fh = await disk.openFile(join(dir, MARKER), 'w');
  try {
    await writeFully(fh, [Buffer.from(JSON.stringify({ lsn: endLsn, at: new Date().toISOString() }))], 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await disk.syncDirectory(dir);
}
