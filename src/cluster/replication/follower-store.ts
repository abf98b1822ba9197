import { existsSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openDatabase, type Db } from '../../store/metadata/db.js';
import { decodeValue } from './metadata-log.js';
import { OpKind, type Op } from './ops.js';
import { checkReceivedPath, REPLICATED_DATABASES } from './paths.js';

type Statement = ReturnType<Db['prepare']>;
const MAX_OPEN = 64;
/**
 * Writes up to this size are made synchronously: into the page cache that takes microseconds,
 * while an asynchronous write costs a thread-pool round trip and a wake-up of the event loop
 * before the batch's fdatasync can even start — on a busy machine the larger part of a
 * follower's ack latency, which every confirm waits for. Larger writes (catch-up chunks) stay
 * asynchronous, so a standby's client forwarding is never held for long.
 */
const SYNC_WRITE_MAX = 256 * 1024;

/**
 * A follower's data directory, written from the leader's ops: the same bytes at the same
 * paths, and meta.db (and the MQTT plugin's databases) changed by the same statements. `apply` writes (no sync); `sync` makes
 * everything applied since the last one durable — meta.db's units in one transaction first
 * (so a queue's row is never behind journal records naming it), then one fdatasync per file
 * written and one fsync per directory whose names changed — and is called once per received
 * batch, only when something arrived.
 */
export class FollowerStore {
  readonly #dir: string;
  readonly #files = new Map<string, FileHandle>();
  readonly #dirty = new Set<string>();
  readonly #dirtyDirs = new Set<string>();
  /** replicated databases open here (meta.db, the MQTT plugin's), by name */
  readonly #dbs = new Map<string, { db: Db; statements: Map<string, Statement>; seq: number }>();
  #metaSeq = 0;
  #units: { name: string; statements: { sql: string; params: unknown[] }[] }[] = [];
  /** snapshots being received, by database */
  readonly #incoming = new Map<string, FileHandle>();

  constructor(dataDir: string) {
    this.#dir = dataDir;
  }

  /** the last metadata unit applied */
  get metaSeq(): number {
    return this.#metaSeq;
  }

  /**
   * Open the directory. A node's own clean-close state (journal snapshots and their markers,
   * the index spill cache) describes files the leader is about to overwrite: removed, so a
   * later start as a Broker scans what is really there.
   */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const vhosts = join(this.#dir, 'vhosts');
    for (const d of await readdir(vhosts).catch(() => [] as string[])) {
      for (const f of ['clean-shutdown', 'snapshot.wx', 'index-spill']) await rm(join(vhosts, d, f), { recursive: true, force: true });
    }
    for (const name of REPLICATED_DATABASES) if (existsSync(join(this.#dir, name))) this.#openDb(name, 0);
  }

  async apply(ops: readonly Op[]): Promise<void> {
    for (const op of ops) {
      switch (op.kind) {
        case OpKind.WRITE: {
          const fh = await this.#handle(checkReceivedPath(op.path));
          const sync = op.bytes.length <= SYNC_WRITE_MAX;
          for (let done = 0; done < op.bytes.length; ) {
            const n = op.bytes.length - done;
            const bytesWritten = sync ? writeSync(fh.fd, op.bytes, done, n, op.at + done) : (await fh.write(op.bytes, done, n, op.at + done)).bytesWritten;
            if (bytesWritten === 0) throw new Error('write made no progress');
            done += bytesWritten;
          }
          this.#dirty.add(op.path);
          break;
        }
        case OpKind.TRUNCATE: {
          const fh = await this.#handle(checkReceivedPath(op.path));
          await fh.truncate(op.length);
          this.#dirty.add(op.path);
          break;
        }
        case OpKind.UNLINK:
          await this.#close(checkReceivedPath(op.path));
          await unlink(join(this.#dir, op.path)).catch(ignoreMissing);
          this.#dirtyDirs.add(dirname(op.path));
          break;
        case OpKind.RM:
          checkReceivedPath(op.path, 'dir');
          for (const p of [...this.#files.keys()]) if (p.startsWith(`${op.path}/`)) await this.#close(p);
          await rm(join(this.#dir, op.path), { recursive: true, force: true });
          this.#dirtyDirs.add(dirname(op.path));
          break;
        case OpKind.FILE:
          await this.#close(checkReceivedPath(op.path));
          await this.#replaceFile(op.path, op.bytes);
          break;
        case OpKind.META: {
          const db = this.#dbs.get(checkReceivedPath(op.path, 'db'));
          if (db === undefined) throw new Error(`change to ${op.path} before its snapshot`);
          if (op.seq > db.seq) {
            this.#units.push({ name: op.path, statements: JSON.parse(op.json.toString('utf8')) as { sql: string; params: unknown[] }[] });
            db.seq = op.seq;
          }
          if (op.seq > this.#metaSeq) this.#metaSeq = op.seq;
          break;
        }
        case OpKind.SNAPSHOT:
          await this.#snapshotPiece(checkReceivedPath(op.path, 'db'), op.at, op.total, op.bytes, op.seq);
          if (op.seq > this.#metaSeq) this.#metaSeq = op.seq;
          break;
      }
    }
  }

  /** Make everything applied so far durable. */
  async sync(): Promise<void> {
    this.#commitUnits();
    const files = [...this.#dirty];
    this.#dirty.clear();
    await Promise.all(files.map((p) => this.#files.get(p)?.datasync()));
    const dirs = [...this.#dirtyDirs];
    this.#dirtyDirs.clear();
    for (const d of dirs) await syncDir(join(this.#dir, d));
  }

  /** Sync, close every file and meta.db; `promoting` marks meta.db as not cleanly shut down (its journals were not closed by a broker). */
  async close(promoting = true): Promise<void> {
    await this.sync();
    for (const p of [...this.#files.keys()]) await this.#close(p);
    const meta = this.#dbs.get('meta.db')?.db;
    if (meta && promoting) meta.prepare("INSERT INTO node_state (key, value) VALUES ('clean_shutdown', '0') ON CONFLICT (key) DO UPDATE SET value = excluded.value").run();
    for (const { db } of this.#dbs.values()) db.close();
    this.#dbs.clear();
    for (const fh of this.#incoming.values()) await fh.close();
    this.#incoming.clear();
  }

  /** The batch's units: one transaction per database, meta.db first. */
  #commitUnits(): void {
    if (this.#units.length === 0) return;
    const units = this.#units;
    this.#units = [];
    for (const [name, target] of this.#dbs) {
      const mine = units.filter((u) => u.name === name);
      if (mine.length === 0) continue;
      const { db, statements } = target;
      db.transaction(() => {
        for (const unit of mine) {
          for (const s of unit.statements) {
            let st = statements.get(s.sql);
            if (st === undefined) statements.set(s.sql, (st = db.prepare(s.sql)));
            (st.run as (...p: unknown[]) => unknown)(...s.params.map(decodeValue));
          }
        }
      })();
    }
  }

  async #handle(path: string): Promise<FileHandle> {
    let fh = this.#files.get(path);
    if (fh !== undefined) {
      // most recently used last
      this.#files.delete(path);
      this.#files.set(path, fh);
      return fh;
    }
    if (this.#files.size >= MAX_OPEN) {
      const oldest = this.#files.keys().next().value as string;
      await this.#close(oldest);
    }
    const abs = join(this.#dir, path);
    try {
      fh = await open(abs, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(dirname(abs), { recursive: true });
      fh = await open(abs, 'w+');
      this.#dirtyDirs.add(dirname(path));
      this.#dirtyDirs.add(dirname(dirname(path)));
      this.#dirtyDirs.add('.');
    }
    this.#files.set(path, fh);
    return fh;
  }

  async #close(path: string): Promise<void> {
    const fh = this.#files.get(path);
    if (fh === undefined) return;
    this.#files.delete(path);
    if (this.#dirty.delete(path)) await fh.datasync();
    await fh.close();
  }

  async #replaceFile(path: string, bytes: Buffer): Promise<void> {
    const abs = join(this.#dir, path);
    await mkdir(dirname(abs), { recursive: true });
    const fh = await open(`${abs}.tmp`, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(`${abs}.tmp`, abs);
    this.#dirtyDirs.add(dirname(path));
  }

  /** Replace database `name` by the leader's snapshot (its units not yet committed belong to the old one). */
  /** A piece of a snapshot, written aside at its offset; the last piece installs it. */
  async #snapshotPiece(name: string, at: number, total: number, bytes: Buffer, seq: number): Promise<void> {
    const path = join(this.#dir, name);
    let fh = this.#incoming.get(name);
    if (at === 0) {
      await fh?.close();
      await mkdir(dirname(path), { recursive: true });
      fh = await open(`${path}.tmp`, 'w');
      this.#incoming.set(name, fh);
    }
    if (fh === undefined) throw new Error(`snapshot of ${name} without its first piece`);
    for (let done = 0; done < bytes.length; ) done += (await fh.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
    if (at + bytes.length < total) return;
    this.#incoming.delete(name);
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await this.#installSnapshot(name, seq);
  }

  async #installSnapshot(name: string, seq: number): Promise<void> {
    this.#units = this.#units.filter((u) => u.name !== name);
    this.#dbs.get(name)?.db.close();
    this.#dbs.delete(name);
    const path = join(this.#dir, name);
    for (const f of [`${path}-wal`, `${path}-shm`]) await unlink(f).catch(ignoreMissing);
    await rename(`${path}.tmp`, path);
    await syncDir(dirname(path));
    this.#openDb(name, seq);
  }

  /** meta.db through the store's own opening (pragmas, migrations); a plugin's with WAL and full syncs. */
  #openDb(name: string, seq: number): void {
    const path = join(this.#dir, name);
    let db: Db;
    if (name === 'meta.db') db = openDatabase(path);
    else {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    this.#dbs.set(name, { db, statements: new Map(), seq });
  }
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (fh === null) return;
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
