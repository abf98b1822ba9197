import type { Db } from '../metadata/db.js';

/**
 * Stored offsets of named stream consumers (`x-stream-consumer-name`, beyond RabbitMQ's AMQP
 * side; the stream protocol's server-side offset tracking does the same): one row per
 * (stream, consumer name) in the metadata database, table `stream_offsets` (migration 3).
 *
 * Offsets change with every ack, so they are not written per ack: the stream store keeps them
 * in memory and saves the changed ones in one transaction about once a second, and when a
 * consumer goes or the broker stops (STORE.md §3.7). A crash loses at most that second of
 * progress — a resumed consumer then sees a few messages again (at-least-once).
 */
export class StreamOffsetStore {
  readonly #db: Db;
  readonly #upsert;
  readonly #get;
  readonly #forQueue;
  readonly #delete;

  constructor(db: Db) {
    this.#db = db;
    this.#upsert = db.prepare<[number, string, number, number]>(
      `INSERT INTO stream_offsets (queue_id, consumer, committed, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (queue_id, consumer) DO UPDATE SET committed = excluded.committed, updated_at = excluded.updated_at`,
    );
    this.#get = db.prepare<[number, string], { committed: number }>('SELECT committed FROM stream_offsets WHERE queue_id = ? AND consumer = ?');
    this.#forQueue = db.prepare<[number], { consumer: string; committed: number }>(
      'SELECT consumer, committed FROM stream_offsets WHERE queue_id = ? ORDER BY consumer',
    );
    this.#delete = db.prepare<[number, string]>('DELETE FROM stream_offsets WHERE queue_id = ? AND consumer = ?');
  }

  /** The last offset `consumer` committed on stream `queueId`, or undefined. */
  get(queueId: number, consumer: string): number | undefined {
    return this.#get.get(queueId, consumer)?.committed;
  }

  all(queueId: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.#forQueue.all(queueId)) out.set(r.consumer, r.committed);
    return out;
  }

  /** Save many offsets in one synchronous transaction (never an await inside: better-sqlite3 docs/api.md). */
  saveMany(rows: readonly { queueId: number; consumer: string; committed: number }[]): void {
    if (rows.length === 0) return;
    const now = Date.now();
    this.#db.transaction(() => {
      for (const r of rows) this.#upsert.run(r.queueId, r.consumer, r.committed, now);
    })();
  }

  delete(queueId: number, consumer: string): boolean {
    return this.#delete.run(queueId, consumer).changes > 0;
  }
}

/** Migration 3 of the metadata schema (src/store/metadata/schema.ts). */
export const STREAM_OFFSETS_SQL = `
  -- the rows go with their stream (ON DELETE CASCADE from queues)
  CREATE TABLE stream_offsets (
    queue_id INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    consumer TEXT NOT NULL,
    committed INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (queue_id, consumer)
  ) WITHOUT ROWID;
`;
