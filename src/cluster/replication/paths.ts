/**
 * Which files of a data directory replication ships, and which a node rebuilds itself.
 *
 * Shipped, byte for byte (relative to the data directory):
 *   vhosts/<id>/<20 digits>.wj     journal segments (appends, creation, deletion by reclaim)
 *   streams/<id>/<20 digits>.ws    stream segments (appends, retention, the cleaner's replacement)
 *   streams/<id>/<20 digits>.wi|wt stream index files (written whole at a seal)
 *   meta.db, mqtt/retained.db, mqtt/sessions.db   not as files: as their changes (META ops)
 *                                  and, for a node that joins, VACUUM INTO snapshots (SNAPSHOT)
 * Rebuilt, never shipped:
 *   vhosts/<id>/clean-shutdown, snapshot.wx   clean-close state: a promoted follower did not
 *                                  close cleanly, so its recovery scans the journal instead
 *   vhosts/<id>/index-spill/       a cache, deleted at every open
 *   *.tmp, *.swap, *.cleaned, *.swapinfo, *.corrupt   intermediate or set-aside files of the
 *                                  leader's own writers and recovery (their results are shipped)
 *   *.db-wal, *.db-shm             SQLite's own; the follower's SQLite writes its own
 */
import { isAbsolute, normalize, relative, sep } from 'node:path';

const SHIPPED_FILE = /^(vhosts\/\d+\/\d{20}\.wj|streams\/\d+\/\d{20}\.(ws|wi|wt))$/;
const SHIPPED_DIR = /^(vhosts|streams)\/\d+$/;
/** segment files are append-only and start with a header that names their creation */
const APPEND_ONLY = /\.(wj|ws)$/;

/** `path` (absolute) relative to `dataDir` with forward slashes, or null when outside it. */
export function relativePath(dataDir: string, path: string): string | null {
  const rel = relative(dataDir, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** the SQLite databases replicated as changes (core.replicateDatabase names the plugins') */
export const REPLICATED_DATABASES: ReadonlySet<string> = new Set(['meta.db', 'mqtt/retained.db', 'mqtt/sessions.db']);

export const isShippedFile = (rel: string): boolean => SHIPPED_FILE.test(rel);
export const isShippedDir = (rel: string): boolean => SHIPPED_DIR.test(rel);
export const isAppendOnly = (rel: string): boolean => APPEND_ONLY.test(rel);

/**
 * A path received from the leader, checked before it touches the disk: one of the shipped
 * kinds, normalized, inside the data directory. @returns it, or throws.
 */
export function checkReceivedPath(rel: string, kind: 'file' | 'dir' | 'db' = 'file'): string {
  const ok = kind === 'dir' ? isShippedDir(rel) : kind === 'db' ? REPLICATED_DATABASES.has(rel) : isShippedFile(rel);
  if (normalize(rel) !== rel || !ok) throw new Error(`path not replicated: ${JSON.stringify(rel)}`);
  return rel;
}
