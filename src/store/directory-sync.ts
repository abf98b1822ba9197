import type { Disk, DiskDirectory } from './disk/disk.js';

/**
 * The fsync of a journal's directory, shared by the two that change its names: the segment
 * writer (a new segment's name must be durable before anything written in it is confirmed)
 * and reclaim (an unlinked segment must be gone for good before a segment whose cancel records
 * it made unnecessary can go: decision 8). One directory fsync makes every change made before
 * it started durable, so a sync already covering every change is not repeated, and callers who
 * come while one runs share the next. The directory stays open between syncs.
 *
 * A change counts as covered only by a sync that started after the change was made.
 */
export class DirectorySync {
  readonly #disk: Disk;
  readonly #dir: string;
  #handle: DiskDirectory | null = null;
  #running: Promise<void> | null = null;
  /** changes made since the last sync started */
  #unsynced = 0;

  constructor(disk: Disk, dir: string) {
    this.#disk = disk;
    this.#dir = dir;
  }

  /** A name in the directory was created or removed (the call returned): not durable yet. */
  changed(): void {
    this.#unsynced++;
  }

  /** fsync the directory unless every change made so far is already covered by a finished sync. */
  async sync(): Promise<void> {
    // one running may have started before the caller's change
    while (this.#running !== null) await this.#running.catch(() => undefined);
    if (this.#unsynced === 0) return;
    const covered = this.#unsynced;
    this.#unsynced = 0;
    const run = this.#fsync();
    this.#running = run;
    try {
      await run;
    } catch (e) {
      this.#unsynced += covered;
      throw e;
    } finally {
      this.#running = null;
    }
  }

  async close(): Promise<void> {
    while (this.#running !== null) await this.#running.catch(() => undefined);
    const h = this.#handle;
    this.#handle = null;
    await h?.close();
  }

  async #fsync(): Promise<void> {
    this.#handle ??= await this.#disk.openDirectory(this.#dir);
    try {
      await this.#handle.sync();
    } catch (e) {
      // a handle that failed is not trusted again
      const h = this.#handle;
      this.#handle = null;
      await h?.close().catch(() => undefined);
      throw e;
    }
  }
}
