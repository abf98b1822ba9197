/**
 * The store's file I/O, behind one small interface, so that tests can swap the real disk for
 * one that loses what was not synced (a simulated power cut), fails a write or a sync on
 * demand, or holds fdatasync behind a gate (docs/store.md "The disk interface").
 *
 * Everything the journal, the stream logs, snapshots, the clean-shutdown marker, compaction,
 * the index spill cache and recovery do to files goes through a `Disk`. SQLite (metadata,
 * retained MQTT messages) does its own I/O and is not covered.
 *
 * Three call styles, because the store uses three and each is the cheapest for its caller:
 * - promises on a `DiskFile` handle: the write side (gather writes, fdatasync) and recovery;
 * - node-style callbacks on numeric descriptors (`fdOpen`/`fdRead`/`fdClose`): positional
 *   reads on the delivery path, one callback per read and no promise;
 * - synchronous calls named like node:fs's (`openSync` …): the index spill cache and the
 *   stream cleaner, which runs in a worker thread with node:fs itself on the real disk and
 *   inline with these on any other disk (`workerThreads`).
 *
 * Directory semantics follow POSIX: creating, renaming or unlinking a name is durable only
 * once the directory is fsynced (`syncDirectory`); file contents only once the file is
 * fdatasynced. The real disk is `realDisk` (real-disk.ts): a thin object whose methods call
 * node:fs directly.
 */

/** 'r' read; 'w' create or truncate, write; 'wx' create exclusively (EEXIST if it exists), write; 'w+' create or truncate, read and write */
export type OpenFlags = 'r' | 'w' | 'wx' | 'w+';

/** An open file (promise style). Positions are absolute; there is no file cursor. */
export interface DiskFile {
  /** Write `buffers` back to back at `position`. @returns bytes written (may be short: callers loop, see writeFully) */
  writev(buffers: Buffer[], position: number): Promise<number>;
  /** @returns bytes read (0 at end of file) */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync(2): the file's data written so far survives a power cut once this resolves */
  datasync(): Promise<void>;
  /** fsync(2) */
  sync(): Promise<void>;
  /** the file's size in bytes */
  size(): Promise<number>;
  close(): Promise<void>;
}

/** A directory held open so that syncing it is one call (the journal's: directory-sync.ts). */
export interface DiskDirectory {
  /** fsync the directory: creations, renames and unlinks in it so far become durable */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export type FdCallback = (error: NodeJS.ErrnoException | null, fd: number) => void;
export type ReadCallback = (error: NodeJS.ErrnoException | null, bytesRead: number) => void;

export interface Disk {
  /**
   * True when the files are the operating system's, so that another thread may open them
   * with node:fs (the stream cleaner's worker). False for an in-process disk: the cleaner
   * then runs its job inline on this disk's synchronous calls.
   */
  readonly workerThreads: boolean;

  // ---- handles (promises) ----
  openFile(path: string, flags: OpenFlags): Promise<DiskFile>;
  readFile(path: string): Promise<Buffer>;
  /** create or replace `path` with `data` (not synced) */
  writeFile(path: string, data: Buffer | string): Promise<void>;

  // ---- names (promises) ----
  /** entry names of a directory (ENOENT if it does not exist) */
  readdir(dir: string): Promise<string[]>;
  /** size of a file (ENOENT if it does not exist) */
  size(path: string): Promise<number>;
  exists(path: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  /** mkdir -p. @returns the first directory created, or undefined when it existed (as fs.mkdir with recursive) */
  mkdir(dir: string): Promise<string | undefined>;
  /** rm -rf (no error if missing) */
  rm(path: string): Promise<void>;
  /** fsync a directory: creations, renames and unlinks in it become durable */
  syncDirectory(dir: string): Promise<void>;
  /** open a directory to sync it more than once (`syncDirectory` opens and closes it each time) */
  openDirectory(dir: string): Promise<DiskDirectory>;

  // ---- descriptors with callbacks (the read path) ----
  fdOpen(path: string, flags: OpenFlags, cb: FdCallback): void;
  fdRead(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: ReadCallback): void;
  fdClose(fd: number, cb: (error: NodeJS.ErrnoException | null) => void): void;

  // ---- synchronous, named as in node:fs (index spill, inline stream cleaner) ----
  openSync(path: string, flags: OpenFlags): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fdatasyncSync(fd: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(dir: string): void;
}

/** An fs-style error with a code (ENOENT, EEXIST, EIO, ENOSPC …), as node:fs throws them. */
export function diskError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${syscall}${path === undefined ? '' : ` '${path}'`}`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}
