import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { tapDatabase, type MetadataTap } from './tap.js';

export type Db = Database.Database;

/**
 * Open the metadata database: one connection on the main thread (no checkpoint starvation
 * from other readers — better-sqlite3 docs/performance.md), WAL, and `synchronous = FULL`:
 * a declare-ok must survive a power loss, and definitions are written rarely, so the cost of
 * the extra sync is small (better-sqlite3 builds default WAL databases to NORMAL, which can
 * lose the last commits). Migrations are applied before anything else runs. `tap` (replication)
 * sees every change from then on (tap.ts).
 */
export function openDatabase(path: string, tap?: MetadataTap): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // a checkpoint shrinks the WAL file back to this (stellar-core#2040: unbounded WAL growth)
    db.pragma('journal_size_limit = 67108864');
    migrate(db);
    // after migrating: replicas migrate their own databases, only changes are reported
    if (tap) tapDatabase(db, 'meta.db', tap);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** @returns the schema version after migrating */
export function migrate(db: Db): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let current = row?.version ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`metadata schema version ${current} is newer than this Warren (${SCHEMA_VERSION})`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    // synchronous body only: an await inside a better-sqlite3 transaction would commit early
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
    })();
    current = migration.version;
  }
  return current;
}
