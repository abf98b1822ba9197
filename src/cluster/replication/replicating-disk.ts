import type { Disk, DiskFile, OpenFlags } from '../../store/disk/disk.js';
import { OpKind, fileOps, writeOps } from './ops.js';
import type { Outbox } from './outbox.js';
import { isShippedDir, isShippedFile, relativePath } from './paths.js';

/**
 * The leader's disk: the real one (or any `Disk`), with every change to a shipped file of the
 * data directory (paths.ts) put in the replication outbox in the order the store made it.
 * Everything the journals, stream logs, reclaim, retention, the stream cleaner and recovery
 * do to those files goes through the store's `Disk` (src/store/disk/disk.ts), so this is the
 * one place that sees them all — segment headers and index files included, which the append
 * observer does not report. Reads pass straight through.
 *
 * Mapping: a segment opened for writing → TRUNCATE to 0 (created, or a stale copy emptied);
 * a gather write → WRITE (one copy of the buffers per call, not per record); `writeFile` of
 * a shipped file → FILE; `writeFile(x.tmp)` then `rename(x.tmp, x)` (index files) → FILE x
 * with the bytes given to writeFile; a rename of anything else into a shipped name (the
 * cleaner's swap) → FILE read from disk when the batch is sent; unlink → UNLINK; truncate →
 * TRUNCATE; rm of a vhost's or stream's directory → RM.
 *
 * `settled()` waits for every change already started: catch-up lists the files only after
 * them, so a change that was enqueued before a follower attached is in the files it reads.
 */
export class ReplicatingDisk implements Disk {
  readonly workerThreads: boolean;
  readonly #inner: Disk;
  readonly #dataDir: string;
  readonly #outbox: Outbox;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** bytes given to writeFile(x.tmp) for a shipped x, until the rename */
  readonly #staged = new Map<string, Buffer>();

  constructor(inner: Disk, dataDir: string, outbox: Outbox) {
    this.#inner = inner;
    this.#dataDir = dataDir;
    this.#outbox = outbox;
    // the stream cleaner's worker writes with node:fs beside us; its result is renamed into
    // place on the main thread, through this disk, and shipped then
    this.workerThreads = inner.workerThreads;
    // bound, so that a wrapper built with Object.create(this) (the node's watchdog disk) or a
    // method passed around alone still reaches this object's private state
    const self = this as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(ReplicatingDisk.prototype)) {
      const v = self[name];
      if (name !== 'constructor' && typeof v === 'function') self[name] = (v as (...a: unknown[]) => unknown).bind(this);
    }
  }

  /** Resolves when every change started before the call has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #shipped(path: string): string | null {
    const rel = relativePath(this.#dataDir, path);
    return rel !== null && isShippedFile(rel) ? rel : null;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    const done = () => void this.#inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  // ---- handles ----
  async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    const rel = flags === 'r' ? null : this.#shipped(path);
    if (rel === null) return this.#inner.openFile(path, flags);
    const file = await this.#track(this.#inner.openFile(path, flags));
    this.#outbox.enqueue({ kind: OpKind.TRUNCATE, path: rel, length: 0 });
    return new ReplicatedFile(file, rel, this.#outbox, (p) => this.#track(p));
  }

  readFile(path: string): Promise<Buffer> {
    return this.#inner.readFile(path);
  }

  writeFile(path: string, data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    const rel = this.#shipped(path);
    if (rel !== null) for (const op of fileOps(rel, bytes)) this.#outbox.enqueue(op);
    else if (path.endsWith('.tmp') && this.#shipped(path.slice(0, -4)) !== null) this.#staged.set(path, bytes);
    return this.#track(this.#inner.writeFile(path, data));
  }

  // ---- names ----
  readdir(dir: string): Promise<string[]> {
    return this.#inner.readdir(dir);
  }
  size(path: string): Promise<number> {
    return this.#inner.size(path);
  }
  exists(path: string): Promise<boolean> {
    return this.#inner.exists(path);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#track(
      this.#inner.rename(from, to).then(() => {
        this.#renamed(from, to);
      }),
    );
  }

  unlink(path: string): Promise<void> {
    this.#unlinked(path);
    return this.#track(this.#inner.unlink(path));
  }

  truncate(path: string, length: number): Promise<void> {
    const rel = this.#shipped(path);
    if (rel !== null) this.#outbox.enqueue({ kind: OpKind.TRUNCATE, path: rel, length });
    return this.#track(this.#inner.truncate(path, length));
  }

  mkdir(dir: string): Promise<string | undefined> {
    return this.#inner.mkdir(dir);
  }

  rm(path: string): Promise<void> {
    const rel = relativePath(this.#dataDir, path);
    if (rel !== null && isShippedDir(rel)) this.#outbox.enqueue({ kind: OpKind.RM, path: rel });
    else if (rel !== null && isShippedFile(rel)) this.#outbox.enqueue({ kind: OpKind.UNLINK, path: rel });
    return this.#track(this.#inner.rm(path));
  }

  syncDirectory(dir: string): Promise<void> {
    return this.#inner.syncDirectory(dir);
  }

  // ---- descriptors (the read path) ----
  fdOpen: Disk['fdOpen'] = (path, flags, cb) => this.#inner.fdOpen(path, flags, cb);
  fdRead: Disk['fdRead'] = (fd, buffer, offset, length, position, cb) => this.#inner.fdRead(fd, buffer, offset, length, position, cb);
  fdClose: Disk['fdClose'] = (fd, cb) => this.#inner.fdClose(fd, cb);

  // ---- synchronous: the index spill cache and the inline cleaner (neither writes a shipped file in place) ----
  openSync: Disk['openSync'] = (path, flags) => this.#inner.openSync(path, flags);
  readSync: Disk['readSync'] = (fd, buffer, offset, length, position) => this.#inner.readSync(fd, buffer, offset, length, position);
  writeSync: Disk['writeSync'] = (fd, buffer, offset, length, position) => this.#inner.writeSync(fd, buffer, offset, length, position);
  fdatasyncSync: Disk['fdatasyncSync'] = (fd) => this.#inner.fdatasyncSync(fd);
  fsyncSync: Disk['fsyncSync'] = (fd) => this.#inner.fsyncSync(fd);
  closeSync: Disk['closeSync'] = (fd) => this.#inner.closeSync(fd);
  renameSync: Disk['renameSync'] = (from, to) => {
    this.#inner.renameSync(from, to);
    this.#renamed(from, to);
  };
  unlinkSync: Disk['unlinkSync'] = (path) => {
    this.#unlinked(path);
    this.#inner.unlinkSync(path);
  };
  mkdirSync: Disk['mkdirSync'] = (dir) => this.#inner.mkdirSync(dir);

  #renamed(from: string, to: string): void {
    const rel = this.#shipped(to);
    const staged = this.#staged.get(from);
    this.#staged.delete(from);
    if (rel !== null) {
      if (staged !== undefined) for (const op of fileOps(rel, staged)) this.#outbox.enqueue(op);
      else this.#outbox.enqueueFile(rel, to);
    }
    this.#unlinked(from);
  }

  #unlinked(path: string): void {
    const rel = this.#shipped(path);
    if (rel !== null) this.#outbox.enqueue({ kind: OpKind.UNLINK, path: rel });
  }
}

/** A shipped file open for writing: every write goes to the outbox as well. */
class ReplicatedFile implements DiskFile {
  readonly #file: DiskFile;
  readonly #path: string;
  readonly #outbox: Outbox;
  readonly #track: <T>(p: Promise<T>) => Promise<T>;

  constructor(file: DiskFile, path: string, outbox: Outbox, track: <T>(p: Promise<T>) => Promise<T>) {
    this.#file = file;
    this.#path = path;
    this.#outbox = outbox;
    this.#track = track;
  }

  writev(buffers: Buffer[], position: number): Promise<number> {
    // copied now: the buffers are the log's arena, reused once the write returns
    for (const op of writeOps(this.#path, position, Buffer.concat(buffers))) this.#outbox.enqueue(op);
    return this.#track(this.#file.writev(buffers, position));
  }
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.#file.read(buffer, offset, length, position);
  }
  datasync(): Promise<void> {
    return this.#file.datasync();
  }
  sync(): Promise<void> {
    return this.#file.sync();
  }
  size(): Promise<number> {
    return this.#file.size();
  }
  close(): Promise<void> {
    return this.#file.close();
  }
}
