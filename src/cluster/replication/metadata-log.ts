import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NotReplicatedError } from '../../store/log/append-observer.js';
import type { Db } from '../../store/metadata/db.js';
import type { MetadataTap, TappedStatement } from '../../store/metadata/tap.js';
import { OpKind, snapshotOps } from './ops.js';
import type { Outbox } from './outbox.js';

/**
 * The leader's metadata log: every committed change of meta.db and of the plugins' replicated
 * databases (src/store/metadata/tap.ts, core.replicateDatabase) becomes a META op, numbered by
 * one `seq` for all of them, in the outbox between the file changes it happened among — so a
 * queue's row reaches a follower before the journal records that name its id. A follower
 * applies each unit to its own SQLite (never a copy of the leader's file); one that joins gets
 * `snapshots()` (VACUUM INTO) and skips the units a snapshot already holds (seq ≤ its seq). A
 * database opened while followers are attached is sent as a snapshot at once, so its first
 * changes have a base.
 *
 * `hold` is the confirm rule for definitions: a reply promising a change (declare-ok, SUBACK,
 * a receipt) waits, through the confirm gate, for the in-sync set to ack the stream up to now;
 * once a unit is known held, later holds with nothing newer release at once.
 */
export class MetadataLog implements MetadataTap {
  readonly #outbox: Outbox;
  readonly #gateHold: (target: number, release: (refusal: NotReplicatedError | null) => void) => void;
  readonly #dbs = new Map<string, Db>();
  #seq = 0;
  /** the last unit every in-sync replica is known to hold */
  #heldSeq = 0;

  constructor(outbox: Outbox, gateHold: (target: number, release: (refusal: NotReplicatedError | null) => void) => void = (_t, release) => release(null)) {
    this.#outbox = outbox;
    this.#gateHold = gateHold;
  }

  hold(release: (refusal: NotReplicatedError | null) => void): void {
    const seq = this.#seq;
    if (seq <= this.#heldSeq) return release(null);
    this.#gateHold(this.#outbox.position, (refusal) => {
      if (refusal === null && seq > this.#heldSeq) this.#heldSeq = seq;
      release(refusal);
    });
  }

  get seq(): number {
    return this.#seq;
  }

  opened(name: string, db: Db): void {
    this.#dbs.set(name, db);
    if (this.#outbox.attached) for (const op of snapshotOps(name, this.#seq, vacuumInto(db))) this.#outbox.enqueue(op);
  }

  closing(name: string): void {
    this.#dbs.delete(name);
  }

  changed(name: string, statements: TappedStatement[]): void {
    this.#seq++;
    this.#outbox.enqueue({ kind: OpKind.META, path: name, seq: this.#seq, json: Buffer.from(JSON.stringify(statements.map(encodeStatement))) });
  }

  /**
   * A consistent copy of every open database now, with the seq of the last unit each holds.
   * Synchronous (as every write of them is), so no change can fall between a copy and its seq.
   */
  snapshots(): { name: string; seq: number; bytes: Buffer }[] {
    return [...this.#dbs].map(([name, db]) => ({ name, seq: this.#seq, bytes: vacuumInto(db) }));
  }
}

/** VACUUM INTO a temporary file, read back, removed: a compact, consistent copy of `db`. */
function vacuumInto(db: Db): Buffer {
  const path = join(tmpdir(), `warren-snapshot-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.db`);
  try {
    db.prepare('VACUUM INTO ?').run(path);
    return readFileSync(path);
  } finally {
    rmSync(path, { force: true });
  }
}

/** A statement's values as JSON: bigints and buffers tagged (better-sqlite3 takes both back). */
function encodeStatement(s: TappedStatement): { sql: string; params: unknown[] } {
  return { sql: s.sql, params: s.params.map(encodeValue) };
}

function encodeValue(v: unknown): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('base64') };
  return v;
}

export function decodeValue(v: unknown): unknown {
  if (typeof v === 'object' && v !== null) {
    const o = v as { $bigint?: string; $bytes?: string };
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    if (typeof o.$bytes === 'string') return Buffer.from(o.$bytes, 'base64');
  }
  return v;
}
