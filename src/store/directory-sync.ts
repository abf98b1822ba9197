import type { Disk, DiskDirectory } from './disk/disk.js';

/**
 * The fsync of a journal's directory, shared by the two that change its names: the segment
 * writer (a new segment's name must be durable before anything written in it is confirmed)
 * and reclaim (an unlinked segment must be gone for good before a segment whose cancel records
 * it made unnecessary can go: decision 8). One directory fsync makes every change made before
 * it started durable, so one sync can serve both: with `reclaim.unlinkSyncWaitMs` > 0 (default
 * 0: reclaim syncs at once) a segment deleted now may wait that long for the next segment's
 * creation to cover it (compaction.ts). The directory stays open between syncs.
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
  /** told once the next sync to start (after their call) has finished */
  #waiters: ((error: Error | null) => void)[] = [];
  /** directory fsyncs made (tests, metrics) */
  syncs = 0;

  constructor(disk: Disk, dir: string) {
    this.#disk = disk;
    this.#dir = dir;
  }

  /** changes not yet covered by a sync that has started */
  get pending(): boolean {
    return this.#unsynced > 0;
  }

  /** A name in the directory was created or removed (the call returned): not durable yet. */
  changed(): void {
    this.#unsynced++;
  }

  /** Call `cb` once a sync that starts after this call has finished (null), or failed. */
  onNextSync(cb: (error: Error | null) => void): void {
    this.#waiters.push(cb);
  }

  /**
   * Resolves once a sync that starts after this call has finished: someone else's if one starts
   * within `waitMs` (a segment's creation), else one of its own.
   */
  syncSoon(waitMs: number): Promise<void> {
    if (waitMs <= 0) return this.sync();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => void this.sync().catch(() => undefined), waitMs);
      this.onNextSync((error) => {
        clearTimeout(timer);
        if (error === null) resolve();
        else reject(error);
      });
    });
  }

  /** fsync the directory unless every change made so far is already covered by a finished sync. */
  async sync(): Promise<void> {
    // one running may have started before the caller's change
    while (this.#running !== null) await this.#running.catch(() => undefined);
    if (this.#unsynced === 0 && this.#waiters.length === 0) return;
    const covered = this.#unsynced;
    const waiters = this.#waiters;
    this.#unsynced = 0;
    this.#waiters = [];
    const run = this.#fsync();
    this.#running = run;
    try {
      await run;
    } catch (e) {
      this.#unsynced += covered;
      for (const w of waiters) w(e as Error);
      throw e;
    } finally {
      this.#running = null;
    }
    this.syncs++;
    for (const w of waiters) w(null);
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
