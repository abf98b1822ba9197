/**
 * The follower's side of the ops, directly: a database snapshot larger than one op arrives in
 * pieces and is installed with its last one (units it already holds skipped, later ones
 * applied); a write larger than one op is split and lands whole; paths outside the shipped
 * kinds are refused before they touch the disk. Real files and SQLite in a temp dir.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FollowerStore } from '../../../src/cluster/replication/follower-store.js';
import { MAX_OP_BYTES, OpKind, snapshotOps, writeOps, type Op } from '../../../src/cluster/replication/ops.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const meta = (seq: number, sql: string, params: unknown[]): Op => ({ kind: OpKind.META, path: 'mqtt/retained.db', seq, json: Buffer.from(JSON.stringify([{ sql, params }])) });

describe('follower store', () => {
  it('installs a snapshot sent in pieces, skips the units it holds, applies later ones', async () => {
    const src = await tempDir('warren-src-');
    const db = new Database(join(src, 'r.db'));
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)');
    db.prepare('INSERT INTO t VALUES (?, ?)').run('big', Buffer.alloc(MAX_OP_BYTES + 12345, 3));
    db.close();
    const bytes = readFileSync(join(src, 'r.db'));
    const pieces = snapshotOps('mqtt/retained.db', 5, bytes);
    expect(pieces.length).toBeGreaterThan(1);

    const dir = await tempDir('warren-follower-');
    const store = new FollowerStore(dir);
    await store.open();
    await store.apply([...pieces, meta(5, 'INSERT INTO t VALUES (?, ?)', ['dup', 1]), meta(6, 'INSERT INTO t VALUES (?, ?)', ['new', 'xy'])]);
    await store.sync();
    await store.close(false);
    const copy = new Database(join(dir, 'mqtt/retained.db'), { readonly: true });
    const rows = copy.prepare('SELECT k, length(v) AS n FROM t ORDER BY k').all();
    copy.close();
    expect(rows).toEqual([
      { k: 'big', n: MAX_OP_BYTES + 12345 },
      { k: 'new', n: 2 },
    ]);
  });

  it('writes a large write in pieces; refuses paths that are not shipped', async () => {
    const dir = await tempDir('warren-follower-');
    const store = new FollowerStore(dir);
    await store.open();
    const data = Buffer.alloc(2 * MAX_OP_BYTES + 7);
    for (let i = 0; i < data.length; i++) data[i] = i % 253;
    const path = 'vhosts/1/00000000000000000001.wj';
    const ops = writeOps(path, 32, data);
    expect(ops.length).toBe(3);
    await store.apply([{ kind: OpKind.TRUNCATE, path, length: 0 }, { kind: OpKind.WRITE, path, at: 0, bytes: Buffer.alloc(32, 9) }, ...ops]);
    await store.sync();
    expect(readFileSync(join(dir, path)).equals(Buffer.concat([Buffer.alloc(32, 9), data]))).toBe(true);
    writeFileSync(join(dir, 'precious'), 'keep');
    for (const bad of ['../escape.wj', '/etc/passwd', 'precious', 'vhosts/1/../../precious', 'meta.db', 'vhosts/1/clean-shutdown']) {
      await expect(store.apply([{ kind: OpKind.UNLINK, path: bad }])).rejects.toThrow(/not replicated/);
    }
    await expect(store.apply([{ kind: OpKind.RM, path: '.' }])).rejects.toThrow(/not replicated/);
    expect(readFileSync(join(dir, 'precious'), 'utf8')).toBe('keep');
    await store.close(false);
  });
});
