import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../store/metadata/db.js';
import type { MetadataTap, TappedStatement } from '../../store/metadata/tap.js';
import { OpKind } from './ops.js';
import type { Outbox } from './outbox.js';

/**
 * The leader's metadata log: every committed change of meta.db (src/store/metadata/tap.ts)
 * becomes a META op numbered by `seq`, in the outbox between the file changes it happened
 * among — so a queue's row reaches a follower before the journal records that name its id.
 * A follower applies each unit to its own SQLite (never a copy of the leader's file); one that
 * joins gets `snapshot()` (VACUUM INTO) and skips the units it already holds (seq ≤ its seq).
 */
export class MetadataLog implements MetadataTap {
  readonly #outbox: Outbox;
  #db: Db | null = null;
  #seq = 0;

  constructor(outbox: Outbox) {
    this.#outbox = outbox;
  }

  get seq(): number {
    return this.#seq;
  }

  opened(name: string, db: Db): void {
    if (name === 'meta.db') this.#db = db;
  }

  closing(name: string): void {
    if (name === 'meta.db') this.#db = null;
  }

  changed(name: string, statements: TappedStatement[]): void {
    if (name !== 'meta.db') return;
    this.#seq++;
    this.#outbox.enqueue({ kind: OpKind.META, seq: this.#seq, json: Buffer.from(JSON.stringify(statements.map(encodeStatement))) });
  }

  /**
   * A consistent copy of meta.db now, and the seq of the last unit it holds. Synchronous (as
   * every meta.db write is), so no change can fall between the copy and its seq. Null before
   * the broker opened meta.db.
   */
  snapshot(): { seq: number; bytes: Buffer } | null {
    const db = this.#db;
    if (db === null) return null;
    const path = join(tmpdir(), `warren-meta-snapshot-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.db`);
    try {
      db.prepare('VACUUM INTO ?').run(path);
      return { seq: this.#seq, bytes: readFileSync(path) };
    } finally {
      rmSync(path, { force: true });
    }
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
