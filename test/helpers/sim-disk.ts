/**
 * A simulated disk for tests: files in memory, with what a power cut would keep told apart
 * from what the page cache holds, and write / fdatasync failures on demand.
 *
 * The rules (docs/store.md "The simulated disk"):
 * - A file's *durable image* is what its last successful fdatasync/fsync covered. Writes and
 *   truncations after it are pending: reads see them, a power cut keeps none of them except
 *   possibly the last one, which survives whole, torn at a 512-byte boundary of the file
 *   (a prefix of it reaches the disk), or vanishes — chosen by the cut's seeded PRNG.
 * - A name (a file created, renamed or unlinked; a directory made or removed) is durable once
 *   its directory is fsynced (`syncDirectory`, or `fsyncSync` on a directory opened with
 *   `openSync`). At a cut, every directory comes back as it was at its last sync: a file
 *   created without one vanishes, an unlinked one comes back, a rename may be undone.
 * - A failed fdatasync (injected EIO/ENOSPC) drops the pending writes it would have covered:
 *   they stay readable (the page cache) but never become durable, not even through a later
 *   successful sync — Linux marks the pages clean after reporting the error (the "fsyncgate"
 *   behaviour PostgreSQL met in 2018). A failed write writes nothing.
 *
 * One `SimMachine` holds the disk; `mount()` gives a `Disk` on it. `powerCut(rng)` ends every
 * mount (their calls fail with EIO from then on, so a broker still running on one can do no
 * harm) and rebuilds the files from their durable images; `image(rng)` makes a separate
 * machine holding what a cut now would leave, while this one carries on.
 */
import { dirname } from 'node:path';
import { diskError, type Disk, type DiskDirectory, type DiskFile, type FdCallback, type OpenFlags, type ReadCallback } from '../../src/store/disk/disk.js';
import type { Prng } from './prng.js';

const SECTOR = 512;

interface PendingOp {
  /** a write of `data` at `position`, or (data null) a truncation to `position` */
  position: number;
  data: Buffer | null;
}

class SimFile {
  /** what reads see */
  data: Buffer = Buffer.alloc(0);
  size = 0;
  /** what a power cut keeps: `durable` up to `durableSize` */
  durable: Buffer = Buffer.alloc(0);
  durableSize = 0;
  /** writes and truncations since the last sync (or the last failed one) */
  pending: PendingOp[] = [];

  write(position: number, src: Buffer): void {
    const end = position + src.length;
    this.data = ensure(this.data, this.size, end);
    if (position > this.size) this.data.fill(0, this.size, position);
    src.copy(this.data, position);
    if (end > this.size) this.size = end;
    this.pending.push({ position, data: Buffer.from(src) });
  }

  truncate(length: number): void {
    this.data = ensure(this.data, this.size, length);
    if (length > this.size) this.data.fill(0, this.size, length);
    this.size = length;
    this.pending.push({ position: length, data: null });
  }

  /** fdatasync succeeded: the pending writes are durable (not those a failed sync dropped) */
  sync(): void {
    for (const op of this.pending) this.#apply(op, op.data === null ? 0 : op.data.length);
    this.pending = [];
  }

  /** fdatasync failed: the pending writes are dropped from the way to the disk; reads keep seeing them */
  dropPending(): void {
    this.pending = [];
  }

  /** The file after a power cut: its durable image, plus maybe part of its last pending write. */
  afterCut(rng: Prng | null): SimFile {
    const f = new SimFile();
    f.durable = Buffer.from(this.durable.subarray(0, this.durableSize));
    f.durableSize = this.durableSize;
    const last = this.pending[this.pending.length - 1];
    if (last && rng) {
      const fate = rng.int(3); // 0 vanish, 1 whole, 2 torn
      if (last.data === null) {
        if (fate !== 0) f.#apply(last, 0);
      } else if (fate !== 0) {
        let keep = last.data.length;
        if (fate === 2) {
          // torn: the write reached the disk up to a sector boundary inside it
          const first = Math.floor(last.position / SECTOR) + 1;
          const lastBoundary = Math.floor((last.position + last.data.length - 1) / SECTOR);
          const boundaries = lastBoundary - first + 1;
          keep = boundaries > 0 ? (first + rng.int(boundaries)) * SECTOR - last.position : 0;
        }
        if (keep > 0) f.#apply(last, keep);
      }
    }
    f.data = Buffer.from(f.durable.subarray(0, f.durableSize));
    f.size = f.durableSize;
    return f;
  }

  /** apply a write's first `keep` bytes (or a truncation) to the durable image */
  #apply(op: PendingOp, keep: number): void {
    if (op.data === null) {
      this.durable = ensure(this.durable, this.durableSize, op.position);
      if (op.position > this.durableSize) this.durable.fill(0, this.durableSize, op.position);
      this.durableSize = op.position;
      return;
    }
    const end = op.position + keep;
    this.durable = ensure(this.durable, this.durableSize, end);
    if (op.position > this.durableSize) this.durable.fill(0, this.durableSize, op.position);
    op.data.copy(this.durable, op.position, 0, keep);
    if (end > this.durableSize) this.durableSize = end;
  }
}

/** `b` (holding `used` bytes) with room for `n` bytes: the same buffer, or a larger copy */
function ensure(b: Buffer, used: number, n: number): Buffer {
  if (n <= b.length) return b;
  const grown = Buffer.alloc(Math.max(n, b.length * 2, 4096));
  b.copy(grown, 0, 0, used);
  return grown;
}

/** A directory's entries: name → file, or DIR for a subdirectory. */
const DIR = 'dir' as const;
type Entry = SimFile | typeof DIR;

export type FaultOp = 'write' | 'fdatasync';
export interface Fault {
  op: FaultOp;
  code: 'EIO' | 'ENOSPC';
  /** only files whose path contains this */
  pathIncludes?: string;
  /** let this many matching calls succeed first (default 0) */
  after?: number;
  /** fail this many matching calls (default 1; Infinity: every one) */
  times?: number;
}

export class SimMachine {
  /** live namespace: directory path → its entries */
  #dirs = new Map<string, Map<string, Entry>>();
  /** durable namespace (as of each directory's last sync) */
  #durableDirs = new Map<string, Map<string, Entry>>();
  #generation = 0;
  #faults: (Fault & { seen: number; failed: number })[] = [];
  /** counters */
  readonly stats = { datasyncs: 0, writes: 0, dirSyncs: 0, cuts: 0, failedWrites: 0, failedSyncs: 0 };

  /** @param roots directories that exist (durably) from the start, such as a test's data dir */
  constructor(roots: string[] = []) {
    for (const r of roots) this.#makeRoot(r);
  }

  mount(): Disk {
    return new SimDisk(this, this.#generation);
  }

  /** Fail future calls: see `Fault`. */
  inject(fault: Fault): void {
    this.#faults.push({ ...fault, seen: 0, failed: 0 });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Cut the power: every mount dies; the files become what the disk durably held (+ the rules' luck). */
  powerCut(rng: Prng): void {
    this.stats.cuts++;
    this.#generation++;
    const { dirs } = this.#survivors(rng);
    this.#dirs = dirs;
    this.#durableDirs = cloneDirs(dirs);
  }

  /** A separate machine with what a power cut now would leave; this one is untouched. */
  image(rng: Prng): SimMachine {
    const m = new SimMachine();
    const { dirs } = this.#survivors(rng);
    m.#dirs = dirs;
    m.#durableDirs = cloneDirs(dirs);
    return m;
  }

  alive(generation: number): boolean {
    return generation === this.#generation;
  }

  // ---- used by SimDisk -----------------------------------------------------------------------

  lookup(path: string): Entry | undefined {
    return this.#dirs.get(dirname(path))?.get(basename(path));
  }

  isDir(path: string): boolean {
    return this.#dirs.has(path);
  }

  entries(dir: string): Map<string, Entry> | undefined {
    return this.#dirs.get(dir);
  }

  link(path: string, entry: Entry): void {
    const parent = this.#dirs.get(dirname(path));
    if (!parent) throw diskError('ENOENT', 'open', path);
    parent.set(basename(path), entry);
    if (entry === DIR && !this.#dirs.has(path)) this.#dirs.set(path, new Map());
  }

  unlinkName(path: string): void {
    this.#dirs.get(dirname(path))?.delete(basename(path));
  }

  removeTree(path: string): void {
    for (const d of [...this.#dirs.keys()]) if (d === path || d.startsWith(`${path}/`)) this.#dirs.delete(d);
    this.unlinkName(path);
  }

  syncDir(dir: string): void {
    const live = this.#dirs.get(dir);
    if (!live) throw diskError('ENOENT', 'fsync', dir);
    this.stats.dirSyncs++;
    this.#durableDirs.set(dir, new Map(live));
  }

  /** Throws the injected error when a fault matches this call. */
  checkFault(op: FaultOp, path: string): void {
    for (const f of this.#faults) {
      if (f.op !== op || (f.pathIncludes !== undefined && !path.includes(f.pathIncludes))) continue;
      if (f.seen++ < (f.after ?? 0)) continue;
      if (f.failed >= (f.times ?? 1)) continue;
      f.failed++;
      if (op === 'write') this.stats.failedWrites++;
      else this.stats.failedSyncs++;
      throw diskError(f.code, op, path);
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  #makeRoot(root: string): void {
    let p = root;
    const chain: string[] = [];
    for (;;) {
      chain.unshift(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
    for (const d of chain) {
      if (!this.#dirs.has(d)) this.#dirs.set(d, new Map());
      if (!this.#durableDirs.has(d)) this.#durableDirs.set(d, new Map());
      const up = dirname(d);
      if (up !== d) {
        this.#dirs.get(up)!.set(basename(d), DIR);
        this.#durableDirs.get(up)!.set(basename(d), DIR);
      }
    }
  }

  /** The durable namespace, reachable from the roots, each file cut by the rules. */
  #survivors(rng: Prng): { dirs: Map<string, Map<string, Entry>> } {
    const dirs = new Map<string, Map<string, Entry>>();
    const cut = new Map<SimFile, SimFile>();
    // walk from the top directories (those without a durable parent entry)
    const tops = [...this.#durableDirs.keys()].filter((d) => dirname(d) === d);
    const visit = (dir: string): void => {
      const durable = this.#durableDirs.get(dir) ?? new Map<string, Entry>();
      const out = new Map<string, Entry>();
      dirs.set(dir, out);
      for (const name of [...durable.keys()].sort()) {
        const e = durable.get(name) as Entry;
        const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
        if (e === DIR) {
          out.set(name, DIR);
          visit(path);
        } else {
          let f = cut.get(e);
          if (!f) cut.set(e, (f = e.afterCut(rng)));
          out.set(name, f);
        }
      }
    };
    for (const t of tops) visit(t);
    return { dirs };
  }
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return path.slice(i + 1);
}

function cloneDirs(dirs: Map<string, Map<string, Entry>>): Map<string, Map<string, Entry>> {
  const c = new Map<string, Map<string, Entry>>();
  for (const [k, v] of dirs) c.set(k, new Map(v));
  return c;
}

interface OpenFile {
  file: SimFile | null;
  path: string;
  /** a directory opened for fsync */
  dir: boolean;
}

/** A mount of a SimMachine: the store's Disk. Async calls resolve on a later turn, as real I/O does. */
class SimDisk implements Disk {
  readonly workerThreads = false;
  readonly #m: SimMachine;
  readonly #generation: number;
  readonly #fds = new Map<number, OpenFile>();
  #nextFd = 3;

  constructor(machine: SimMachine, generation: number) {
    this.#m = machine;
    this.#generation = generation;
  }

  // ---- synchronous core: every other style is built on these ----------------------------------

  openSync(path: string, flags: OpenFlags): number {
    this.#alive('open', path);
    const m = this.#m;
    if (flags === 'r' && m.isDir(path)) {
      const fd = this.#nextFd++;
      this.#fds.set(fd, { file: null, path, dir: true });
      return fd;
    }
    let e = m.lookup(path);
    if (e === DIR) throw diskError('EISDIR', 'open', path);
    if (flags === 'r') {
      if (!e) throw diskError('ENOENT', 'open', path);
    } else {
      if (e && flags === 'wx') throw diskError('EEXIST', 'open', path);
      if (!e) m.link(path, (e = new SimFile()));
      else e.truncate(0);
    }
    const fd = this.#nextFd++;
    this.#fds.set(fd, { file: e, path, dir: false });
    return fd;
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.#file(fd, 'read');
    const n = Math.max(0, Math.min(length, f.size - position));
    if (n > 0) f.data.copy(buffer, offset, position, position + n);
    return n;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const o = this.#open(fd, 'write');
    const f = this.#file(fd, 'write');
    this.#m.checkFault('write', o.path);
    this.#m.stats.writes++;
    f.write(position, Buffer.from(buffer.buffer, buffer.byteOffset + offset, length));
    return length;
  }

  fdatasyncSync(fd: number): void {
    const o = this.#open(fd, 'fdatasync');
    if (o.dir) return this.#m.syncDir(o.path);
    const f = o.file as SimFile;
    try {
      this.#m.checkFault('fdatasync', o.path);
    } catch (e) {
      f.dropPending();
      throw e;
    }
    this.#m.stats.datasyncs++;
    f.sync();
  }

  fsyncSync(fd: number): void {
    this.fdatasyncSync(fd);
  }

  closeSync(fd: number): void {
    this.#open(fd, 'close');
    this.#fds.delete(fd);
  }

  renameSync(from: string, to: string): void {
    this.#alive('rename', from);
    const e = this.#m.lookup(from);
    if (!e || e === DIR) throw diskError('ENOENT', 'rename', from);
    if (!this.#m.isDir(dirname(to))) throw diskError('ENOENT', 'rename', to);
    this.#m.unlinkName(from);
    this.#m.link(to, e);
  }

  unlinkSync(path: string): void {
    this.#alive('unlink', path);
    const e = this.#m.lookup(path);
    if (!e) throw diskError('ENOENT', 'unlink', path);
    if (e === DIR) throw diskError('EISDIR', 'unlink', path);
    this.#m.unlinkName(path);
  }

  mkdirSync(dir: string): void {
    this.#alive('mkdir', dir);
    this.#mkdirp(dir);
  }

  // ---- promises ------------------------------------------------------------------------------

  async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    await turn();
    const fd = this.openSync(path, flags);
    return {
      writev: async (buffers, position) => {
        await turn();
        let pos = position;
        for (const b of buffers) pos += this.writeSync(fd, b, 0, b.length, pos);
        return pos - position;
      },
      read: async (buffer, offset, length, position) => {
        await turn();
        return this.readSync(fd, buffer, offset, length, position);
      },
      datasync: async () => {
        await turn();
        this.fdatasyncSync(fd);
      },
      sync: async () => {
        await turn();
        this.fsyncSync(fd);
      },
      size: async () => {
        await turn();
        return this.#file(fd, 'fstat').size;
      },
      close: async () => {
        await turn();
        this.closeSync(fd);
      },
    };
  }

  async readFile(path: string): Promise<Buffer> {
    await turn();
    const fd = this.openSync(path, 'r');
    const f = this.#file(fd, 'read');
    this.#fds.delete(fd);
    return Buffer.from(f.data.subarray(0, f.size));
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    await turn();
    const fd = this.openSync(path, 'w');
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      this.writeSync(fd, b, 0, b.length, 0);
    } finally {
      this.#fds.delete(fd);
    }
  }

  async readdir(dir: string): Promise<string[]> {
    await turn();
    this.#alive('scandir', dir);
    const e = this.#m.entries(dir);
    if (!e) throw diskError('ENOENT', 'scandir', dir);
    return [...e.keys()].sort();
  }

  async size(path: string): Promise<number> {
    await turn();
    this.#alive('stat', path);
    const e = this.#m.lookup(path);
    if (!e) throw diskError('ENOENT', 'stat', path);
    return e === DIR ? 4096 : e.size;
  }

  async exists(path: string): Promise<boolean> {
    await turn();
    this.#alive('stat', path);
    return this.#m.lookup(path) !== undefined;
  }

  async rename(from: string, to: string): Promise<void> {
    await turn();
    this.renameSync(from, to);
  }

  async unlink(path: string): Promise<void> {
    await turn();
    this.unlinkSync(path);
  }

  async truncate(path: string, length: number): Promise<void> {
    await turn();
    this.#alive('truncate', path);
    const e = this.#m.lookup(path);
    if (!e || e === DIR) throw diskError('ENOENT', 'truncate', path);
    e.truncate(length);
  }

  async mkdir(dir: string): Promise<string | undefined> {
    await turn();
    this.#alive('mkdir', dir);
    return this.#mkdirp(dir);
  }

  async rm(path: string): Promise<void> {
    await turn();
    this.#alive('rm', path);
    if (this.#m.isDir(path)) this.#m.removeTree(path);
    else if (this.#m.lookup(path)) this.#m.unlinkName(path);
  }

  async syncDirectory(dir: string): Promise<void> {
    await turn();
    this.#alive('fsync', dir);
    this.#m.syncDir(dir);
  }

  async openDirectory(dir: string): Promise<DiskDirectory> {
    await turn();
    this.#alive('open', dir);
    return { sync: () => this.syncDirectory(dir), close: async () => undefined };
  }

  // ---- callbacks -----------------------------------------------------------------------------

  fdOpen(path: string, flags: OpenFlags, cb: FdCallback): void {
    setImmediate(() => {
      let fd = -1;
      try {
        fd = this.openSync(path, flags);
      } catch (e) {
        return cb(e as NodeJS.ErrnoException, -1);
      }
      cb(null, fd);
    });
  }

  fdRead(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: ReadCallback): void {
    setImmediate(() => {
      let n = 0;
      try {
        n = this.readSync(fd, buffer, offset, length, position);
      } catch (e) {
        return cb(e as NodeJS.ErrnoException, 0);
      }
      cb(null, n);
    });
  }

  fdClose(fd: number, cb: (error: NodeJS.ErrnoException | null) => void): void {
    setImmediate(() => {
      this.#fds.delete(fd);
      cb(null);
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  #mkdirp(dir: string): string | undefined {
    if (this.#m.isDir(dir)) return undefined;
    if (this.#m.lookup(dir)) throw diskError('EEXIST', 'mkdir', dir);
    const parent = dirname(dir);
    const first = parent === dir ? undefined : this.#mkdirp(parent);
    this.#m.link(dir, DIR);
    return first ?? dir;
  }

  #alive(syscall: string, path: string): void {
    if (!this.#m.alive(this.#generation)) throw diskError('EIO', syscall, path);
  }

  #open(fd: number, syscall: string): OpenFile {
    const o = this.#fds.get(fd);
    if (!o) throw diskError('EBADF', syscall);
    this.#alive(syscall, o.path);
    return o;
  }

  #file(fd: number, syscall: string): SimFile {
    const o = this.#open(fd, syscall);
    if (!o.file) throw diskError('EISDIR', syscall, o.path);
    return o.file;
  }
}

/** Resolve on a later turn of the event loop, as a thread-pool call would. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
