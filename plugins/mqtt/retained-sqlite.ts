/**
 * The durable retained-message backend: `<data dir>/mqtt/retained.db`, a SQLite file of the
 * MQTT plugin's own (like RabbitMQ's dets backend, a file beside the broker's data rather than
 * tables in its metadata database, whose schema belongs to the core).
 *
 * Every lookup is answered from memory (a `MemoryRetainedStore` loaded at start), so a
 * SUBSCRIBE never waits for the disk. Changes are written behind: each put or delete updates
 * memory at once and is queued; the queue is written in one transaction at the end of the
 * event-loop turn (several updates of one topic in a turn become one row write). The file is
 * in WAL mode with `synchronous = FULL`, so SQLite syncs the WAL at every commit: a committed
 * batch survives a power loss, and a batch is the durability point of the writes in it (the
 * PUBACK / PUBREC of a retained QoS ≥ 1 publish waits for its commit). What a crash can lose is
 * the batch of the turn it happened in, whose publishes were not acknowledged yet. A failed
 * write (disk full) is logged, its waiting acks become negative, and the rows are retried with
 * the next batch; memory stays right, so subscribers see no difference until a restart.
 *
 *   retained(vhost TEXT, topic TEXT, payload BLOB, qos INTEGER,
 *            properties TEXT  -- MQTT 5 properties as JSON (encodeProperties); NULL = none
 *            stored_at INTEGER, expires_at INTEGER  -- ms since the epoch; 0 = never expires
 *            UNIQUE (vhost, topic))
 *
 * `PRAGMA user_version` is the file's format version (1), for a later migration.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { QoS } from 'mqtt-packet';
import type { Logger } from '../../src/log/index.js';
import type { DurabilityPoints, DurableLog, DurableListener } from '../../src/core/index.js';
import type { PublishProperties } from './message.js';
import { MemoryRetainedStore, type RetainedMessage, type RetainedStore } from './retained.js';

const FORMAT_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS retained (
    vhost TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    properties TEXT,
    stored_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (vhost, topic)
  );
`;

interface Row {
  vhost: string;
  topic: string;
  payload: Buffer;
  qos: number;
  properties: string | null;
  stored_at: number;
  expires_at: number;
}

/** A change waiting for the next batch: the message to keep, or null to delete the topic's. */
interface Pending {
  vhost: string;
  topic: string;
  message: RetainedMessage | null;
}

export class SqliteRetainedStore implements RetainedStore, DurableLog {
  readonly #memory = new MemoryRetainedStore();
  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #upsert: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #writeBatch: (batch: Pending[]) => void;
  /** by vhost + topic: the last change of a topic in this turn wins */
  #pending = new Map<string, Pending>();
  #flushScheduled: NodeJS.Immediate | null = null;
  #closed = false;
  /** the number of the batch being gathered; batches below it are committed (or failed) */
  #batch = 0;
  /** acks waiting for the batch being gathered (all waiters are for that one batch) */
  #waiters: DurableListener[] = [];
  #tokens: number[] = [];
  /** in a cluster, a committed write is durable for an ack once the in-sync replicas hold it (ProtocolCore.afterMetadataReplicated) */
  readonly #afterReplicated: (done: (refusal: Error | null) => void) => void;

  /**
   * Open (or create) the file in `dir` and load what it holds.
   * @param keepVhost whether a vhost still exists: retained messages of deleted vhosts are dropped at load
   */
  constructor(
    dir: string,
    log: Logger,
    keepVhost: (vhost: string) => boolean = () => true,
    replicate: (db: Database.Database) => void = () => undefined,
    afterReplicated: (done: (refusal: Error | null) => void) => void = (done) => done(null),
  ) {
    mkdirSync(dir, { recursive: true });
    this.#log = log;
    this.#afterReplicated = afterReplicated;
    const db = new Database(join(dir, 'retained.db'));
    this.#db = db;
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > FORMAT_VERSION) throw new Error(`mqtt/retained.db format ${version} is newer than this Warren (${FORMAT_VERSION})`);
      db.exec(SCHEMA);
      db.pragma(`user_version = ${FORMAT_VERSION}`);
      replicate(db);
      this.#upsert = db.prepare(
        `INSERT INTO retained (vhost, topic, payload, qos, properties, stored_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (vhost, topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos,
           properties = excluded.properties, stored_at = excluded.stored_at, expires_at = excluded.expires_at`,
      );
      this.#remove = db.prepare('DELETE FROM retained WHERE vhost = ? AND topic = ?');
      this.#writeBatch = db.transaction((batch: Pending[]) => {
        for (const p of batch) {
          const m = p.message;
          if (m === null) this.#remove.run(p.vhost, p.topic);
          else this.#upsert.run(p.vhost, p.topic, m.payload, m.qos, encodeProperties(m.properties), m.storedAt, m.expiresAt);
        }
      });
      this.#load(keepVhost);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  put(vhost: string, message: RetainedMessage, points: DurabilityPoints | null): void {
    this.#memory.put(vhost, message);
    this.#queue({ vhost, topic: message.topic, message }, points);
  }

  delete(vhost: string, topic: string, points: DurabilityPoints | null): void {
    this.#memory.delete(vhost, topic);
    this.#queue({ vhost, topic, message: null }, points);
  }

  // ---- DurableLog: a write's durability point is the batch it is committed in ----

  get committedOffset(): number {
    return this.#batch;
  }

  whenCommitted(batch: number, listener: DurableListener, token: number): void {
    if (batch < this.#batch) this.#afterReplicated((refusal) => queueMicrotask(() => listener.onDurable(token, refusal)));
    else {
      this.#waiters.push(listener);
      this.#tokens.push(token);
    }
  }

  match(vhost: string, filter: string, now: number): RetainedMessage[] {
    // an expired message found here leaves memory; its row goes at the next load
    return this.#memory.match(vhost, filter, now);
  }

  count(vhost: string): number {
    return this.#memory.count(vhost);
  }

  get total(): number {
    return this.#memory.total;
  }

  /** Write what is queued now (tests, and `close`). */
  flush(): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = null;
    if (this.#pending.size === 0 || this.#closed) return;
    const batch = [...this.#pending.values()];
    let error: Error | null = null;
    try {
      this.#writeBatch(batch);
      this.#pending.clear();
    } catch (e) {
      // kept for the next batch (the newest change of each topic still wins)
      error = e as Error;
      this.#log.error('retained messages not written', { error: error.message, changes: batch.length });
    }
    this.#batch++;
    const waiters = this.#waiters;
    const tokens = this.#tokens;
    if (waiters.length === 0) return;
    this.#waiters = [];
    this.#tokens = [];
    if (error !== null) {
      for (let i = 0; i < waiters.length; i++) waiters[i].onDurable(tokens[i], error);
      return;
    }
    this.#afterReplicated((refusal) => {
      for (let i = 0; i < waiters.length; i++) waiters[i].onDurable(tokens[i], refusal);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#memory.close();
    this.#db.close();
  }

  #queue(p: Pending, points: DurabilityPoints | null): void {
    if (this.#closed) return;
    points?.noteLog(this, this.#batch);
    this.#pending.set(`${p.vhost}\u0000${p.topic}`, p);
    this.#flushScheduled ??= setImmediate(() => this.flush());
  }

  #load(keepVhost: (vhost: string) => boolean): void {
    const now = Date.now();
    const gone: [string, string][] = [];
    for (const row of this.#db.prepare('SELECT * FROM retained').iterate() as IterableIterator<Row>) {
      if ((row.expires_at !== 0 && row.expires_at <= now) || !keepVhost(row.vhost)) {
        gone.push([row.vhost, row.topic]);
        continue;
      }
      this.#memory.put(row.vhost, {
        topic: row.topic,
        payload: row.payload,
        qos: row.qos as QoS,
        properties: decodeProperties(row.properties),
        storedAt: row.stored_at,
        expiresAt: row.expires_at,
      });
    }
    if (gone.length > 0) this.#db.transaction(() => gone.forEach(([v, t]) => this.#remove.run(v, t)))();
  }
}

/**
 * MQTT 5 properties as JSON. Correlation Data is the one binary property: it travels beside
 * the others as base64 (`{"p": {…}, "cd": "…"}`), so no property name or value can be taken for it.
 */
export function encodeProperties(p: PublishProperties | undefined): string | null {
  if (p === undefined || Object.keys(p).length === 0) return null;
  const { correlationData, ...rest } = p;
  return JSON.stringify(correlationData === undefined ? { p: rest } : { p: rest, cd: correlationData.toString('base64') });
}

export function decodeProperties(text: string | null): PublishProperties | undefined {
  if (text === null) return undefined;
  const { p, cd } = JSON.parse(text) as { p: PublishProperties; cd?: string };
  if (cd !== undefined) p.correlationData = Buffer.from(cd, 'base64');
  return p;
}
