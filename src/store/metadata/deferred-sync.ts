import { close, fdatasync, open } from 'node:fs';
import type { Db } from './db.js';

/**
 * Metadata writes made durable together: a group commit for definitions that arrive in bursts
 * (ten thousand devices each creating a persistent session's queue and binding at once).
 *
 * The database runs with `synchronous = FULL` (db.ts): each transaction fdatasyncs the WAL at
 * its commit, a few milliseconds apiece on a real disk. Writes made inside `run` commit with
 * `synchronous = NORMAL` — into the WAL in the OS, so a killed process loses nothing, but not
 * yet past a power cut — and `whenDurable` then makes every one of them durable with one
 * fdatasync of the WAL file: the same guarantee as FULL for everything committed before it (SQLite's WAL
 * frames carry their own commit markers and checksums). Whoever calls `run` holds every reply
 * that vouches for those writes until `whenDurable` called back (an MQTT connection holds its
 * SUBACK; meanwhile the event loop serves other clients, whose writes join the next sync). A FULL commit by anyone else meanwhile
 * syncs the same file and so covers them too. In-memory databases have nothing to sync.
 */
export class DeferredSync {
  readonly #db: Db;
  /** the WAL file, or null for ':memory:' */
  readonly #walPath: string | null;
  readonly #totalChanges: () => number;
  #depth = 0;
  /** writes made in `run` that no sync started since covers */
  #unsynced = false;
  #inFlight = false;
  /** waiting for the sync in flight */
  #covered: ((error: Error | null) => void)[] = [];
  /** waiting for the next sync */
  #next: ((error: Error | null) => void)[] = [];

  constructor(db: Db, path: string) {
    this.#db = db;
    this.#walPath = path === ':memory:' || path === '' ? null : `${path}-wal`;
    const statement = db.prepare('SELECT total_changes()').pluck();
    this.#totalChanges = () => statement.get() as number;
  }

  /** Run `fn`; the metadata writes it makes are durable when `whenDurable` says so. */
  run<T>(fn: () => T): T {
    if (this.#walPath === null || this.#depth > 0) return fn();
    const before = this.#totalChanges();
    this.#db.pragma('synchronous = NORMAL');
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
      this.#db.pragma('synchronous = FULL');
      if (this.#totalChanges() !== before) this.#unsynced = true;
    }
  }

  /**
   * `done` is called once every write `run` made so far is durable: at once when none waits,
   * else after an fdatasync of the WAL on libuv's thread pool — one for all the writes made
   * before it started; writes made while it runs wait for the next. With an error, the writes
   * are not known to be durable and nothing may vouch for them (a later sync is tried afresh).
   */
  whenDurable(done: (error: Error | null) => void): void {
    if (this.#unsynced) {
      this.#next.push(done);
      if (!this.#inFlight) this.#start();
    } else if (this.#inFlight) {
      this.#covered.push(done);
    } else {
      done(null);
    }
  }

  #start(): void {
    this.#inFlight = true;
    this.#unsynced = false;
    this.#covered = this.#next;
    this.#next = [];
    // opened by path each time, so it is always the WAL file SQLite writes now
    open(this.#walPath!, 'r', (openError, fd) => {
      if (openError) return this.#finish(openError);
      fdatasync(fd, (syncError) => {
        close(fd, () => undefined);
        this.#finish(syncError);
      });
    });
  }

  #finish(error: Error | null): void {
    this.#inFlight = false;
    if (error) this.#unsynced = true;
    const covered = this.#covered;
    this.#covered = [];
    for (const done of covered) done(error);
    if (this.#next.length > 0) this.#start();
  }
}
