import type { Disk } from './disk/disk.js';

/**
 * A per-queue file of fixed-size slots holding spilled index chunks. It is a cache, not a
 * source of truth: never synced, deleted at close, and removed at start (recovery rebuilds
 * every index from the journal). I/O is synchronous: a chunk is ~144 KiB written or read
 * once per ~4,096 messages passing through the middle of a deep queue, from the page cache
 * in practice — cheaper than making every index operation asynchronous.
 */
export class IndexSpillFile {
  readonly path: string;
  readonly slotSize: number;
  readonly #disk: Disk;
  #fd = -1;
  #nextSlot = 0;
  readonly #free: number[] = [];

  constructor(disk: Disk, path: string, slotSize: number) {
    this.#disk = disk;
    this.path = path;
    this.slotSize = slotSize;
  }

  allocate(): number {
    return this.#free.length > 0 ? (this.#free.pop() as number) : this.#nextSlot++;
  }

  free(slot: number): void {
    this.#free.push(slot);
  }

  write(slot: number, data: Uint8Array): void {
    if (data.length > this.slotSize) throw new RangeError('index chunk larger than a spill slot');
    const fd = this.#open();
    let done = 0;
    while (done < data.length) {
      done += this.#disk.writeSync(fd, data, done, data.length - done, slot * this.slotSize + done);
    }
  }

  read(slot: number, into: Uint8Array): void {
    const fd = this.#open();
    let done = 0;
    while (done < into.length) {
      const n = this.#disk.readSync(fd, into, done, into.length - done, slot * this.slotSize + done);
      if (n === 0) throw new Error(`index spill file ${this.path} is short`);
      done += n;
    }
  }

  /** slots in use (for metrics) */
  get slotsInUse(): number {
    return this.#nextSlot - this.#free.length;
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#disk.closeSync(this.#fd);
    this.#fd = -1;
    try {
      this.#disk.unlinkSync(this.path);
    } catch {
      // already gone: nothing to clean
    }
    this.#nextSlot = 0;
    this.#free.length = 0;
  }

  #open(): number {
    if (this.#fd < 0) this.#fd = this.#disk.openSync(this.path, 'w+');
    return this.#fd;
  }
}
