/**
 * Persistent sessions' records (session-record.ts) and delayed wills, kept across a restart in
 * `<data dir>/mqtt/sessions.db`, a SQLite file of the plugin's own (beside retained.db):
 *
 *   sessions(vhost TEXT, client_id TEXT, record TEXT -- JSON, session-record.ts; PRIMARY KEY (vhost, client_id))
 *   wills(vhost TEXT, client_id TEXT, record TEXT    -- JSON, StoredWill;         PRIMARY KEY (vhost, client_id))
 *
 * Written behind: `touch` marks a session changed and one transaction at the end of the
 * event-loop turn writes every session changed in it (its record built then, so many changes
 * in a turn are one row write; a busy QoS 1 consumer costs one row per turn, not per message).
 * WAL with `synchronous = NORMAL`: a commit is in the OS before the next turn, so a killed
 * process (kill -9) loses nothing committed; a power cut may lose the last commits, which
 * promise nothing to a client (packet identifiers are resent with dup set either way). A failed
 * write is logged and retried with the next batch. `PRAGMA user_version` is the format (1).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../src/log/index.js';
import type { SessionRecord } from './session-record.js';
import { parseRecord, recordOf } from './session-record.js';
import type { SessionState } from './session-state.js';
import { inFlightPositions } from './session-end.js';

const FORMAT_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (vhost TEXT NOT NULL, client_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (vhost, client_id));
  CREATE TABLE IF NOT EXISTS wills (vhost TEXT NOT NULL, client_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (vhost, client_id));
`;

/** A will waiting out its delay (will.ts), as stored. */
export interface StoredWill {
  user: string;
  topic: string;
  routingKey: string;
  qos: number;
  retain: boolean;
  /** base64 */
  payload: string;
  /** MQTT 5 will properties (retained-sqlite.ts encodeProperties), or null */
  properties: string | null;
  delaySeconds: number;
  /** when it is due, ms since the epoch */
  dueAt: number;
}

function propertiesParse(text: unknown): boolean {
  try {
    const { p } = JSON.parse(text as string) as { p: unknown };
    return typeof p === 'object' && p !== null;
  } catch {
    return false;
  }
}

/** A stored will read back, or null when it is not what `saveWill` writes. */
function parseWill(text: string): StoredWill | null {
  let w: StoredWill;
  try {
    w = JSON.parse(text) as StoredWill;
  } catch {
    return null;
  }
  if (typeof w !== 'object' || w === null) return null;
  const ok =
    typeof w.user === 'string' && typeof w.topic === 'string' && typeof w.routingKey === 'string' && Number.isInteger(w.qos) && typeof w.retain === 'boolean' &&
    typeof w.payload === 'string' && (w.properties === null || propertiesParse(w.properties)) && Number.isFinite(w.delaySeconds) && Number.isFinite(w.dueAt);
  return ok ? w : null;
}

interface Row {
  vhost: string;
  client_id: string;
  record: string;
}

export class SessionRecords {
  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #putWill: Database.Statement;
  readonly #deleteWill: Database.Statement;
  readonly #write: (states: SessionState[], gone: [string, string][]) => void;
  /** sessions changed this turn */
  #dirty = new Set<SessionState>();
  /** sessions ended this turn (vhost, client id): their rows go */
  #gone: [string, string][] = [];
  #scheduled: NodeJS.Immediate | null = null;
  #closed = false;

  constructor(dir: string, log: Logger, replicate: (db: Database.Database) => void = () => undefined) {
    mkdirSync(dir, { recursive: true });
    this.#log = log;
    const db = new Database(join(dir, 'sessions.db'));
    this.#db = db;
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > FORMAT_VERSION) throw new Error(`mqtt/sessions.db format ${version} is newer than this Warren (${FORMAT_VERSION})`);
      db.exec(SCHEMA);
      db.pragma(`user_version = ${FORMAT_VERSION}`);
      replicate(db);
      this.#put = db.prepare('INSERT INTO sessions (vhost, client_id, record) VALUES (?, ?, ?) ON CONFLICT (vhost, client_id) DO UPDATE SET record = excluded.record');
      this.#delete = db.prepare('DELETE FROM sessions WHERE vhost = ? AND client_id = ?');
      this.#putWill = db.prepare('INSERT INTO wills (vhost, client_id, record) VALUES (?, ?, ?) ON CONFLICT (vhost, client_id) DO UPDATE SET record = excluded.record');
      this.#deleteWill = db.prepare('DELETE FROM wills WHERE vhost = ? AND client_id = ?');
      this.#write = db.transaction((states: SessionState[], gone: [string, string][]) => {
        for (const [vhost, clientId] of gone) this.#delete.run(vhost, clientId);
        for (const s of states) {
          const inFlight = s.live !== null ? inFlightPositions(s.live) : s.resendIds;
          this.#put.run(s.vhost, s.clientId, JSON.stringify(recordOf(s, inFlight)));
        }
      });
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The stored sessions, read once at start. */
  sessions(): { vhost: string; clientId: string; record: SessionRecord }[] {
    const out: { vhost: string; clientId: string; record: SessionRecord }[] = [];
    for (const r of this.#read('SELECT vhost, client_id, record FROM sessions')) {
      const record = parseRecord(r.record);
      if (record !== null) out.push({ vhost: r.vhost, clientId: r.client_id, record });
      else this.#unreadable('session record', r, this.#delete);
    }
    return out;
  }

  /** The stored delayed wills, read once at start. */
  wills(): { vhost: string; clientId: string; will: StoredWill }[] {
    const out: { vhost: string; clientId: string; will: StoredWill }[] = [];
    for (const r of this.#read('SELECT vhost, client_id, record FROM wills')) {
      const will = parseWill(r.record);
      if (will !== null) out.push({ vhost: r.vhost, clientId: r.client_id, will });
      else this.#unreadable('delayed will', r, this.#deleteWill);
    }
    return out;
  }

  /** A row that does not parse is dropped with a word in the log: one bad row must not stop the broker. */
  #unreadable(what: string, r: Row, remove: Database.Statement): void {
    this.#log.error(`MQTT ${what} unreadable, dropped`, { vhost: r.vhost, clientId: r.client_id });
    this.#run(() => remove.run(r.vhost, r.client_id), `${what} not deleted`);
  }

  #read(sql: string): Row[] {
    return this.#db.prepare(sql).all() as Row[];
  }

  /** The session changed: its record is written at the end of this turn. */
  touch(state: SessionState): void {
    if (this.#closed) return;
    state.recorded = true;
    this.#dirty.add(state);
    this.#schedule();
  }

  /** The session ended (or is no longer persistent): its record goes. */
  forget(vhost: string, clientId: string): void {
    if (this.#closed) return;
    for (const s of this.#dirty) if (s.vhost === vhost && s.clientId === clientId) this.#dirty.delete(s);
    this.#gone.push([vhost, clientId]);
    this.#schedule();
  }

  /** Wills are rare: written at once. */
  saveWill(vhost: string, clientId: string, will: StoredWill): void {
    this.#run(() => this.#putWill.run(vhost, clientId, JSON.stringify(will)), 'delayed will not saved');
  }

  forgetWill(vhost: string, clientId: string): void {
    this.#run(() => this.#deleteWill.run(vhost, clientId), 'delayed will not deleted');
  }

  #run(write: () => unknown, what: string): void {
    if (this.#closed) return;
    try {
      write();
    } catch (e) {
      this.#log.error(`MQTT ${what}`, { error: (e as Error).message });
    }
  }

  #schedule(): void {
    if (this.#scheduled === null) this.#scheduled = setImmediate(() => this.flush());
  }

  /** Write what changed (at the end of the turn, and at close). */
  flush(): void {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    if (this.#dirty.size === 0 && this.#gone.length === 0) return;
    const states = [...this.#dirty];
    const gone = this.#gone;
    this.#dirty.clear();
    this.#gone = [];
    try {
      this.#write(states, gone);
    } catch (e) {
      // retried with the next batch
      this.#log.error('MQTT session records not written', { error: (e as Error).message, sessions: states.length });
      for (const s of states) this.#dirty.add(s);
      this.#gone.push(...gone);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }
}
