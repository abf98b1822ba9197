import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { isAppendOnly, isShippedDir, isShippedFile } from './paths.js';

/**
 * Catch-up by position, not by hashing files (LavinMQ #2162 re-hashed every file under the
 * replication lock). What a node holds is, per shipped file, its size and a fingerprint:
 *
 * - a segment (.wj, .ws) is append-only and is never appended to by a later leader (each
 *   start, and each epoch with it, begins new segments; recovery only cuts a torn tail). Its
 *   32-byte header names its number and creation time, so the CRC of the header says which
 *   leader, in which epoch, created it: equal headers mean one file, of which the shorter
 *   copy is a prefix — the follower gets the missing tail, or cuts a longer tail that the
 *   leader does not have (written in an abandoned epoch, never confirmed). Different headers
 *   mean the follower's file came from an abandoned epoch: it is replaced whole.
 * - an index file (.wi, .wt) is small and written whole: the CRC of its content.
 *
 * Files and directories the leader lacks are removed from the follower.
 */
export interface FileEntry {
  /** relative to the data directory */
  path: string;
  /** bytes, or -1 for a directory */
  size: number;
  /** fingerprint (above); 0 for a directory */
  fp: number;
}

const HEADER = 32;

/** The shipped files and directories under `dataDir` (real files). */
export async function listShipped(dataDir: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  // a directory gone since it was named has nothing left to list
  const names = (dir: string) => readdir(join(dataDir, dir)).catch(() => [] as string[]);
  for (const top of ['vhosts', 'streams']) {
    for (const d of await names(top)) {
      const rel = `${top}/${d}`;
      if (!isShippedDir(rel)) continue;
      out.push({ path: rel, size: -1, fp: 0 });
      for (const n of await names(rel)) {
        const path = `${rel}/${n}`;
        if (!isShippedFile(path)) continue;
        const entry = await describe(join(dataDir, path), path);
        if (entry !== null) out.push(entry);
      }
    }
  }
  return out;
}

async function describe(abs: string, path: string): Promise<FileEntry | null> {
  try {
    const size = (await stat(abs)).size;
    const fh = await open(abs, 'r');
    try {
      const n = isAppendOnly(path) ? Math.min(HEADER, size) : size;
      const buf = Buffer.alloc(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await fh.read(buf, done, n - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return { path, size, fp: crc32(buf.subarray(0, done)) };
    } finally {
      await fh.close();
    }
  } catch {
    return null; // removed meanwhile
  }
}

export type Step =
  | { kind: 'rm'; path: string }
  | { kind: 'unlink'; path: string }
  | { kind: 'truncate'; path: string; length: number }
  /** send bytes [from, to) of the leader's file; `from` 0 replaces the follower's copy */
  | { kind: 'send'; path: string; from: number; to: number };

/** What the follower must do to hold what the leader holds (files as listed, sizes as of the listing). */
export function planCatchUp(leader: readonly FileEntry[], follower: readonly FileEntry[]): Step[] {
  const mine = new Map(leader.map((e) => [e.path, e]));
  const steps: Step[] = [];
  for (const f of follower) {
    if (mine.has(f.path)) continue;
    // a directory's files go with it
    if (f.size < 0) steps.push({ kind: 'rm', path: f.path });
    else if (!follower.some((d) => d.size < 0 && f.path.startsWith(`${d.path}/`) && !mine.has(d.path))) steps.push({ kind: 'unlink', path: f.path });
  }
  const theirs = new Map(follower.map((e) => [e.path, e]));
  for (const l of leader) {
    if (l.size < 0) continue;
    const f = theirs.get(l.path);
    const sameFile = f !== undefined && f.fp === l.fp && isAppendOnly(l.path) && f.size >= HEADER && l.size >= HEADER;
    if (sameFile && f.size === l.size) continue;
    if (sameFile && f.size > l.size) steps.push({ kind: 'truncate', path: l.path, length: l.size });
    else if (sameFile) steps.push({ kind: 'send', path: l.path, from: f.size, to: l.size });
    else if (f !== undefined && !isAppendOnly(l.path) && f.fp === l.fp && f.size === l.size) continue;
    else steps.push({ kind: 'send', path: l.path, from: 0, to: l.size });
  }
  return steps;
}

/** Bytes the plan sends. */
export const planBytes = (steps: readonly Step[]): number => steps.reduce((n, s) => n + (s.kind === 'send' ? s.to - s.from : 0), 0);
