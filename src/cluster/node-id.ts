/**
 * A node's id: `cluster.node_id` when set, otherwise made once (random) and kept in the data
 * directory as `cluster-node-id`, so a restarted node is the same member of the ISR. The file
 * is this node's own: replication never ships or replaces it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const NODE_ID_FILE = 'cluster-node-id';

const VALID_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function resolveNodeId(dataDir: string, configured: string): string {
  if (configured !== '') {
    if (!VALID_ID.test(configured)) throw new Error(`cluster.node_id ${JSON.stringify(configured)}: use letters, digits, '_', '.', '-' (at most 64)`);
    return configured;
  }
  const path = join(dataDir, NODE_ID_FILE);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (VALID_ID.test(stored)) return stored;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dataDir, { recursive: true });
  const id = `node-${randomBytes(6).toString('hex')}`;
  writeFileSync(`${path}.tmp`, id + '\n');
  renameSync(`${path}.tmp`, path);
  return id;
}
