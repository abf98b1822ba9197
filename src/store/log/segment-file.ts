import type { Disk, DiskFile } from '../disk/disk.js';
import { SEGMENT_HEADER_SIZE, encodeSegmentHeader } from '../format.js';

/** Linux IOV_MAX: a writev call takes at most this many buffers. */
const IOV_MAX = 1024;

/** What a new segment file is: where, its number in the log, and the owner id its header names. */
export interface SegmentFileSpec {
  path: string;
  /** journal segment number, or a stream segment's base offset */
  number: number;
  /** the journal id (vhost id) or the stream's queue id, written into the header */
  ownerId: number;
  /** the header magic: "WRNJ" journal, "WRNS" stream */
  magic: string;
  /** directories to fsync once the file exists, so its name survives a power cut */
  syncDirs: readonly string[];
  /** instead of `syncDirs`: the log's directory held open, its sync shared with reclaim (../directory-sync.ts) */
  directory?: { changed(): void; sync(): Promise<void> } | null;
}

/**
 * One segment file of a log being written: positional gather writes, `fdatasync`, seal. The
 * log engine holds at most one per log; nothing else writes segments.
 */
export class SegmentFileWriter {
  readonly number: number;
  readonly path: string;
  /** bytes in the file (header included) */
  size = SEGMENT_HEADER_SIZE;
  #fh: DiskFile | null;
  /** written since its last fdatasync (the header, until the first) */
  #unsynced = true;

  private constructor(number: number, path: string, fh: DiskFile) {
    this.number = number;
    this.path = path;
    this.#fh = fh;
  }

  /**
   * Create the file (it must not exist: an existing name means a numbering bug or a second
   * writer), write its header, and fsync the directories so the name survives a power loss.
   */
  static async create(disk: Disk, spec: SegmentFileSpec): Promise<SegmentFileWriter> {
    const fh = await disk.openFile(spec.path, 'wx');
    try {
      const header = encodeSegmentHeader({ segment: spec.number, createdAt: Date.now(), journalId: spec.ownerId }, spec.magic);
      await writeFully(fh, [header], 0);
      const directory = spec.directory ?? null;
      if (directory === null) for (const dir of spec.syncDirs) await disk.syncDirectory(dir);
      else {
        directory.changed();
        await directory.sync();
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return new SegmentFileWriter(spec.number, spec.path, fh);
  }

  /** Write `buffers` (`bytes` in all) back to back at `position` (looping over IOV_MAX and partial writes). */
  async writeAt(buffers: Buffer[], position: number, bytes: number): Promise<void> {
    this.#unsynced = true;
    await writeFully(this.#handle(), buffers, position);
    const end = position + bytes;
    if (end > this.size) this.size = end;
  }

  /** written since its last fdatasync */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  async datasync(): Promise<void> {
    this.#unsynced = false;
    await this.#handle().datasync();
  }

  /**
   * Close the file, after an fdatasync when `sync` (a sealed segment is complete on disk) —
   * none when nothing was written since the last one returned (the round that filled it was
   * synced already: a second fdatasync would cover nothing). @returns whether it synced
   */
  async seal(sync: boolean): Promise<boolean> {
    const fh = this.#handle();
    this.#fh = null;
    const syncing = sync && this.#unsynced;
    try {
      if (syncing) await fh.datasync();
    } finally {
      await fh.close();
    }
    return syncing;
  }

  get open(): boolean {
    return this.#fh !== null;
  }

  #handle(): DiskFile {
    if (!this.#fh) throw new Error(`segment ${this.number} is sealed`);
    return this.#fh;
  }
}

/** Write `buffers` back to back at `position`, over IOV_MAX batches and partial writes (the journal's and the streams' segments). */
export async function writeFully(fh: DiskFile, buffers: Buffer[], position: number): Promise<void> {
  let i = 0;
  let pos = position;
  let first: Buffer | null = null; // the unwritten rest of a partially written buffer
  while (i < buffers.length || first !== null) {
    const batch: Buffer[] = [];
    if (first !== null) batch.push(first);
    while (batch.length < IOV_MAX && i < buffers.length) batch.push(buffers[i++]);
    first = null;
    let expected = 0;
    for (const b of batch) expected += b.length;
    const bytesWritten = await fh.writev(batch, pos);
    pos += bytesWritten;
    if (bytesWritten === expected) continue;
    if (bytesWritten === 0) throw new Error('write made no progress');
    // partial write: push back what was not written, in order
    let done = bytesWritten;
    let k = 0;
    while (done >= batch[k].length) done -= batch[k++].length;
    const rest = batch.slice(k + 1);
    first = batch[k].subarray(done);
    i -= rest.length;
  }
}

/** Read a whole segment file (segments are bounded: one buffer per segment). */
export function readSegmentFile(disk: Disk, path: string): Promise<Buffer> {
  return disk.readFile(path);
}

/**
 * Read whole segment files one after another into one reused buffer (recovery: a buffer
 * per segment would leave RSS at gigabytes until the GC caught up). The view returned is
 * valid until the next read.
 */
export class SegmentFileReader {
  #buf = Buffer.allocUnsafe(0);
  readonly #disk: Disk;

  constructor(disk: Disk) {
    this.#disk = disk;
  }

  async read(path: string): Promise<Buffer> {
    const fh = await this.#disk.openFile(path, 'r');
    try {
      const size = await fh.size();
      if (size > this.#buf.length) this.#buf = Buffer.allocUnsafe(Math.max(size, this.#buf.length * 2));
      let done = 0;
      while (done < size) {
        const bytesRead = await fh.read(this.#buf, done, size - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return this.#buf.subarray(0, done);
    } finally {
      await fh.close();
    }
  }
}
