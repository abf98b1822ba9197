import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory } from './segment.js';

/**
 * The clean-shutdown marker of a journal directory: written last by a clean close, removed
 * first by the next open. Found at open, it means the journal was flushed and its DELIVERED
 * records written; missing, the stop was a crash and every recovered entry is flagged
 * redelivered (it may have been delivered before).
 */
const MARKER = 'clean-shutdown';

export async function hasCleanMarker(dir: string): Promise<boolean> {
  return stat(join(dir, MARKER)).then(
    () => true,
    () => false,
  );
}

/** From here on, a crash is an unclean stop again. */
export async function removeCleanMarker(dir: string): Promise<void> {
  await unlink(join(dir, MARKER));
  await fsyncDirectory(dir);
}

export async function writeCleanMarker(dir: string, endLsn: number): Promise<void> {
  const fh = await open(join(dir, MARKER), 'w');
  try {
    await fh.writeFile(JSON.stringify({ lsn: endLsn, at: new Date().toISOString() }));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDirectory(dir);
}
