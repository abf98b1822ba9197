import type { Disk, DiskFile, OpenFlags } from '../../store/disk/disk.js';
import { ForwardingDisk, ForwardingFile } from '../../store/disk/forwarding-disk.js';
import { OpKind, fileOps, writeOps } from './ops.js';
import type { Outbox } from './outbox.js';
import { isShippedDir, isShippedFile, relativePath } from './paths.js';

/**
 * The leader's disk: the real one (or any `Disk`), with every change to a shipped file of the
 * data directory (paths.ts) put in the replication outbox in the order the store made it.
 * Everything the journals, stream logs, reclaim, retention, the stream cleaner and recovery
 * do to those files goes through the store's `Disk` (src/store/disk/disk.ts), so this is the
 * one place that sees them all — segment headers and index files included, which the append
 * observer does not report. Reads and everything else pass straight through (ForwardingDisk).
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
export class ReplicatingDisk extends ForwardingDisk {
  readonly #dataDir: string;
  readonly #outbox: Outbox;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** bytes given to writeFile(x.tmp) for a shipped x, until the rename */
  readonly #staged = new Map<string, Buffer>();

  constructor(inner: Disk, dataDir: string, outbox: Outbox) {
    // workerThreads is the inner disk's: the stream cleaner's worker writes with node:fs beside
    // us; its result is renamed into place on the main thread, through this disk, and shipped then
    super(inner);
    this.#dataDir = dataDir;
    this.#outbox = outbox;
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
  override async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    const rel = flags === 'r' ? null : this.#shipped(path);
    if (rel === null) return this.inner.openFile(path, flags);
    const file = await this.#track(this.inner.openFile(path, flags));
    this.#outbox.enqueue({ kind: OpKind.TRUNCATE, path: rel, length: 0 });
    return new ReplicatedFile(file, rel, this.#outbox, (p) => this.#track(p));
  }

  override writeFile(path: string, data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    const rel = this.#shipped(path);
    if (rel !== null) for (const op of fileOps(rel, bytes)) this.#outbox.enqueue(op);
    else if (path.endsWith('.tmp') && this.#shipped(path.slice(0, -4)) !== null) this.#staged.set(path, bytes);
    return this.#track(this.inner.writeFile(path, data));
  }

  // ---- names ----
  override rename(from: string, to: string): Promise<void> {
    return this.#track(
      this.inner.rename(from, to).then(() => {
        this.#renamed(from, to);
      }),
    );
  }

  override unlink(path: string): Promise<void> {
    this.#unlinked(path);
    return this.#track(this.inner.unlink(path));
  }

  override truncate(path: string, length: number): Promise<void> {
    const rel = this.#shipped(path);
    if (rel !== null) this.#outbox.enqueue({ kind: OpKind.TRUNCATE, path: rel, length });
    return this.#track(this.inner.truncate(path, length));
  }

  override rm(path: string): Promise<void> {
    const rel = relativePath(this.#dataDir, path);
    if (rel !== null && isShippedDir(rel)) this.#outbox.enqueue({ kind: OpKind.RM, path: rel });
    else if (rel !== null && isShippedFile(rel)) this.#outbox.enqueue({ kind: OpKind.UNLINK, path: rel });
    return this.#track(this.inner.rm(path));
  }

  // ---- synchronous: the index spill cache and the inline cleaner (neither writes a shipped file in place) ----
  override renameSync(from: string, to: string): void {
    this.inner.renameSync(from, to);
    this.#renamed(from, to);
  }

  override unlinkSync(path: string): void {
    this.#unlinked(path);
    this.inner.unlinkSync(path);
  }

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
class ReplicatedFile extends ForwardingFile {
  readonly #path: string;
  readonly #outbox: Outbox;
  readonly #track: <T>(p: Promise<T>) => Promise<T>;

  constructor(file: DiskFile, path: string, outbox: Outbox, track: <T>(p: Promise<T>) => Promise<T>) {
    super(file);
    this.#path = path;
    this.#outbox = outbox;
    this.#track = track;
  }

  override writev(buffers: Buffer[], position: number): Promise<number> {
    // copied now: the buffers are the log's arena, reused once the write returns
    for (const op of writeOps(this.#path, position, Buffer.concat(buffers))) this.#outbox.enqueue(op);
    return this.#track(this.file.writev(buffers, position));
  }
}
