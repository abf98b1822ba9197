/**
 * A `Disk` that passes every call to another one, and a `DiskFile` that does the same: the base
 * of every disk that changes a few calls and keeps the rest (the cluster's replicating and
 * watchdog disks, the tests' gated disk). A subclass overrides only what it changes, so a
 * method added to `Disk` reaches the inner disk through every wrapper without touching them.
 */
import type { Disk, DiskDirectory, DiskFile, FdCallback, OpenFlags, ReadCallback } from './disk.js';

export class ForwardingDisk implements Disk {
  readonly workerThreads: boolean;
  protected readonly inner: Disk;

  constructor(inner: Disk) {
    this.inner = inner;
    this.workerThreads = inner.workerThreads;
  }

  openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    return this.inner.openFile(path, flags);
  }
  readFile(path: string): Promise<Buffer> {
    return this.inner.readFile(path);
  }
  writeFile(path: string, data: Buffer | string): Promise<void> {
    return this.inner.writeFile(path, data);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  size(path: string): Promise<number> {
    return this.inner.size(path);
  }
  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  truncate(path: string, length: number): Promise<void> {
    return this.inner.truncate(path, length);
  }
  mkdir(dir: string): Promise<string | undefined> {
    return this.inner.mkdir(dir);
  }
  rm(path: string): Promise<void> {
    return this.inner.rm(path);
  }
  syncDirectory(dir: string): Promise<void> {
    return this.inner.syncDirectory(dir);
  }
  openDirectory(dir: string): Promise<DiskDirectory> {
    return this.inner.openDirectory(dir);
  }

  fdOpen(path: string, flags: OpenFlags, cb: FdCallback): void {
    this.inner.fdOpen(path, flags, cb);
  }
  fdRead(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: ReadCallback): void {
    this.inner.fdRead(fd, buffer, offset, length, position, cb);
  }
  fdClose(fd: number, cb: (error: NodeJS.ErrnoException | null) => void): void {
    this.inner.fdClose(fd, cb);
  }

  openSync(path: string, flags: OpenFlags): number {
    return this.inner.openSync(path, flags);
  }
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.readSync(fd, buffer, offset, length, position);
  }
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.writeSync(fd, buffer, offset, length, position);
  }
  fdatasyncSync(fd: number): void {
    this.inner.fdatasyncSync(fd);
  }
  fsyncSync(fd: number): void {
    this.inner.fsyncSync(fd);
  }
  closeSync(fd: number): void {
    this.inner.closeSync(fd);
  }
  renameSync(from: string, to: string): void {
    this.inner.renameSync(from, to);
  }
  unlinkSync(path: string): void {
    this.inner.unlinkSync(path);
  }
  mkdirSync(dir: string): void {
    this.inner.mkdirSync(dir);
  }
}

export class ForwardingFile implements DiskFile {
  protected readonly file: DiskFile;

  constructor(file: DiskFile) {
    this.file = file;
  }

  writev(buffers: Buffer[], position: number): Promise<number> {
    return this.file.writev(buffers, position);
  }
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.file.read(buffer, offset, length, position);
  }
  datasync(): Promise<void> {
    return this.file.datasync();
  }
  sync(): Promise<void> {
    return this.file.sync();
  }
  size(): Promise<number> {
    return this.file.size();
  }
  close(): Promise<void> {
    return this.file.close();
  }
}

/** A file whose `datasync` and `sync` run inside `around` (timed, held at a gate …); the rest is forwarded. */
export class SyncWrappedFile extends ForwardingFile {
  readonly #around: (sync: () => Promise<void>) => Promise<void>;

  constructor(file: DiskFile, around: (sync: () => Promise<void>) => Promise<void>) {
    super(file);
    this.#around = around;
  }

  override datasync(): Promise<void> {
    return this.#around(() => this.file.datasync());
  }
  override sync(): Promise<void> {
    return this.#around(() => this.file.sync());
  }
}
