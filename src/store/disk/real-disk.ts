import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Disk, DiskFile, FdCallback, OpenFlags, ReadCallback } from './disk.js';

/** A node:fs FileHandle as a DiskFile: one call through per method. */
class RealFile implements DiskFile {
  readonly #fh: fsp.FileHandle;

  constructor(fh: fsp.FileHandle) {
    this.#fh = fh;
  }

  async writev(buffers: Buffer[], position: number): Promise<number> {
    return (await this.#fh.writev(buffers, position)).bytesWritten;
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.#fh.read(buffer, offset, length, position)).bytesRead;
  }

  datasync(): Promise<void> {
    return this.#fh.datasync();
  }

  sync(): Promise<void> {
    return this.#fh.sync();
  }

  async size(): Promise<number> {
    return (await this.#fh.stat()).size;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

/**
 * The operating system's disk: each method is node:fs's own call (the callback and
 * synchronous ones are node:fs's functions themselves), so the store pays nothing for the
 * indirection beyond a property lookup.
 */
export const realDisk: Disk = {
  workerThreads: true,

  openFile: async (path: string, flags: OpenFlags) => new RealFile(await fsp.open(path, flags)),
  readFile: (path: string) => fsp.readFile(path),
  writeFile: (path: string, data: Buffer | string) => fsp.writeFile(path, data),

  readdir: (dir: string) => fsp.readdir(dir),
  size: async (path: string) => (await fsp.stat(path)).size,
  exists: (path: string) =>
    fsp.stat(path).then(
      () => true,
      () => false,
    ),
  rename: (from: string, to: string) => fsp.rename(from, to),
  unlink: (path: string) => fsp.unlink(path),
  truncate: (path: string, length: number) => fsp.truncate(path, length),
  mkdir: (dir: string) => fsp.mkdir(dir, { recursive: true }),
  rm: (path: string) => fsp.rm(path, { recursive: true, force: true }),
  syncDirectory: async (dir: string) => {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },

  openDirectory: async (dir: string) => {
    const fh = await fsp.open(dir, 'r');
    return { sync: () => fh.sync(), close: () => fh.close() };
  },

  fdOpen: fs.open as (path: string, flags: OpenFlags, cb: FdCallback) => void,
  fdRead: fs.read as (fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: ReadCallback) => void,
  fdClose: fs.close,

  openSync: fs.openSync,
  readSync: fs.readSync as (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => number,
  writeSync: fs.writeSync as (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => number,
  fdatasyncSync: fs.fdatasyncSync,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  mkdirSync: (dir: string) => void fs.mkdirSync(dir, { recursive: true }),
};
