import type { FieldTable } from '../../codec/types.js';
import { openDatabase, type Db } from './db.js';
import type { MetadataTap } from './tap.js';
import { decodeFieldTable, encodeFieldTable } from './field-codec.js';
import { SCHEMA_VERSION } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { StreamOffsetStore } from '../stream/offset-store.js';
import { DeferredSync } from './deferred-sync.js';

export interface VhostDefinition {
  id: number;
  name: string;
  /** description, tags, default queue type … as the management API gives them */
  metadata: Record<string, unknown>;
}

export interface ExchangeDefinition {
  vhost: string;
  name: string;
  type: string;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface QueueDefinition {
  /** the message journal's queue id (never reused) */
  id: number;
  vhost: string;
  name: string;
  /** 'classic', 'priority', 'stream' … */
  type: string;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface BindingDefinition {
  vhost: string;
  /** source exchange */
  source: string;
  destinationKind: 'queue' | 'exchange';
  destination: string;
  routingKey: string;
  arguments: FieldTable;
}

/** SCRAM credentials per mechanism name, as src/auth/scram.ts derives them (salt and keys in base64) */
export type ScramCredentials = Partial<Record<string, { salt: string; iterations: number; storedKey: string; serverKey: string }>>;

export interface UserDefinition {
  name: string;
  passwordHash: string;
  tags: string[];
  /** derived when the password was set in clear; absent for a user given only a hash */
  scram?: ScramCredentials;
}

export interface PermissionDefinition {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermissionDefinition {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

export interface PolicyDefinition {
  vhost: string;
  name: string;
  pattern: string;
  /** 'queues', 'classic_queues', 'quorum_queues', 'streams', 'exchanges' or 'all' */
  applyTo: string;
  priority: number;
  /** RabbitMQ's policy definition object (max-length, message-ttl …), kept as JSON */
  definition: Record<string, unknown>;
}

export interface Definitions {
  vhosts: VhostDefinition[];
  exchanges: ExchangeDefinition[];
  queues: QueueDefinition[];
  bindings: BindingDefinition[];
  users: UserDefinition[];
  permissions: PermissionDefinition[];
  topicPermissions: TopicPermissionDefinition[];
  policies: PolicyDefinition[];
}

/**
 * Durable definitions in SQLite (better-sqlite3): vhosts, exchanges, queues, bindings,
 * users, permissions, topic permissions, policies and node state. Only durable things are
 * saved — the caller does not save transient exchanges, non-durable or exclusive queues, nor
 * bindings that involve them.
 *
 * Every method is synchronous and each is one transaction: when it returns, the change is
 * on disk (WAL + synchronous FULL), so the front-end may answer declare-ok. Order with the
 * journal: save a queue (and get its id) before it accepts messages; on deletion, delete the
 * row, then tell the message store (FileStore.deleteQueue) — recovery drops journal records of
 * queue ids missing here.
 */
export class MetadataStore {
  readonly #db: Db;
  readonly #st: Statements;
  readonly schemaVersion = SCHEMA_VERSION;
  /** stored offsets of named stream consumers, on this same connection */
  readonly streamOffsets: StreamOffsetStore;
  /** writes made durable together, by one fdatasync (deferred-sync.ts) */
  readonly deferredSync: DeferredSync;

  private constructor(db: Db, path: string) {
    this.#db = db;
    this.#st = prepareStatements(db);
    this.streamOffsets = new StreamOffsetStore(db);
    this.deferredSync = new DeferredSync(db, path);
  }

  /** Open (creating and migrating) the database at `path` (':memory:' for tests); `tap` sees every change (replication). */
  static open(path: string, tap?: MetadataTap): MetadataStore {
    return new MetadataStore(openDatabase(path, tap), path);
  }

  // ---- vhosts ------------------------------------------------------------------------------------

  /** Create or update a vhost. @returns its id (journal directories are named by it) */
  saveVhost(name: string, metadata: Record<string, unknown> = {}): number {
    const text = JSON.stringify(metadata);
    const row = this.#st.vhostId.get(name);
    if (row) {
      this.#st.updateVhost.run(text, row.id);
      return row.id;
    }
    return Number(this.#st.insertVhost.run(name, text).lastInsertRowid);
  }

  /** Delete a vhost with everything in it (exchanges, queues, bindings, permissions). */
  deleteVhost(name: string): boolean {
    return this.#st.deleteVhost.run(name).changes > 0;
  }

  vhostId(name: string): number | undefined {
    return this.#st.vhostId.get(name)?.id;
  }

  // ---- exchanges -----------------------------------------------------------------------------------

  saveExchange(x: ExchangeDefinition): void {
    const vhostId = this.#requireVhost(x.vhost);
    this.#st.upsertExchange.run(vhostId, x.name, x.type, x.autoDelete ? 1 : 0, x.internal ? 1 : 0, encodeFieldTable(x.arguments));
  }

  /** Delete an exchange and the bindings from and to it. */
  deleteExchange(vhost: string, name: string): boolean {
    const vhostId = this.vhostId(vhost);
    if (vhostId === undefined) return false;
    return this.#db.transaction(() => {
      this.#st.deleteBindingsFrom.run(vhostId, name);
      this.#st.deleteBindingsTo.run(vhostId, 'exchange', name);
      return this.#st.deleteExchange.run(vhostId, name).changes > 0;
    })();
  }

  // ---- queues ------------------------------------------------------------------------------------------

  /**
   * Save a queue. A new queue gets a new id (never one used before); saving an existing
   * name updates its row and keeps its id. @returns the queue id
   */
  saveQueue(q: Omit<QueueDefinition, 'id'>): number {
    const vhostId = this.#requireVhost(q.vhost);
    const args = encodeFieldTable(q.arguments);
    return this.#db.transaction(() => {
      const row = this.#st.queueByName.get(vhostId, q.name);
      if (row) {
        this.#st.updateQueue.run(q.type, q.autoDelete ? 1 : 0, args, row.id);
        return row.id;
      }
      return Number(this.#st.insertQueue.run(vhostId, q.name, q.type, q.autoDelete ? 1 : 0, args).lastInsertRowid);
    })();
  }

  /** Delete a queue and the bindings to it. @returns its id, or undefined when it was not saved */
  deleteQueue(vhost: string, name: string): number | undefined {
    const vhostId = this.vhostId(vhost);
    if (vhostId === undefined) return undefined;
    return this.#db.transaction(() => {
      const row = this.#st.queueByName.get(vhostId, name);
      if (!row) return undefined;
      this.#st.deleteBindingsTo.run(vhostId, 'queue', name);
      this.#st.deleteQueue.run(row.id);
      return row.id;
    })();
  }

  queueId(vhost: string, name: string): number | undefined {
    const vhostId = this.vhostId(vhost);
    return vhostId === undefined ? undefined : this.#st.queueByName.get(vhostId, name)?.id;
  }

  /** Whether a queue id is saved (the journal's `isKnownQueue` at recovery). */
  hasQueueId(id: number): boolean {
    return this.#st.queueExists.get(id) !== undefined;
  }

  // ---- bindings ------------------------------------------------------------------------------------------

  saveBinding(b: BindingDefinition): void {
    const vhostId = this.#requireVhost(b.vhost);
    this.#st.insertBinding.run(
      vhostId,
      b.source,
      b.destinationKind,
      b.destination,
      b.routingKey,
      encodeFieldTable(b.arguments, true),
      encodeFieldTable(b.arguments),
    );
  }

  deleteBinding(b: BindingDefinition): boolean {
    const vhostId = this.vhostId(b.vhost);
    if (vhostId === undefined) return false;
    return (
      this.#st.deleteBinding.run(vhostId, b.source, b.destinationKind, b.destination, b.routingKey, encodeFieldTable(b.arguments, true))
        .changes > 0
    );
  }

  // ---- users and permissions: written by the core when they change (core.ts) and at first start (node-store.ts) ----

  saveUser(u: UserDefinition): void {
    this.#st.upsertUser.run(u.name, u.passwordHash, JSON.stringify(u.tags), JSON.stringify(u.scram ?? {}));
  }

  deleteUser(name: string): boolean {
    return this.#st.deleteUser.run(name).changes > 0;
  }

  savePermission(p: PermissionDefinition): void {
    this.#st.upsertPermission.run(p.user, this.#requireVhost(p.vhost), p.configure, p.write, p.read);
  }

  deletePermission(user: string, vhost: string): boolean {
    const vhostId = this.vhostId(vhost);
    return vhostId !== undefined && this.#st.deletePermission.run(user, vhostId).changes > 0;
  }

  saveTopicPermission(t: TopicPermissionDefinition): void {
    this.#st.upsertTopicPermission.run(t.user, this.#requireVhost(t.vhost), t.exchange, t.write, t.read);
  }

  /** Delete a user's topic permissions in a vhost: for one exchange, or all of them. */
  deleteTopicPermissions(user: string, vhost: string, exchange?: string): boolean {
    const vhostId = this.vhostId(vhost);
    if (vhostId === undefined) return false;
    const r = exchange === undefined ? this.#st.deleteTopicPermissions.run(user, vhostId) : this.#st.deleteTopicPermission.run(user, vhostId, exchange);
    return r.changes > 0;
  }

  // ---- policies ------------------------------------------------------------------------------------------

  savePolicy(p: PolicyDefinition): void {
    this.#st.upsertPolicy.run(this.#requireVhost(p.vhost), p.name, p.pattern, p.applyTo, p.priority, JSON.stringify(p.definition));
  }

  deletePolicy(vhost: string, name: string): boolean {
    const vhostId = this.vhostId(vhost);
    return vhostId !== undefined && this.#st.deletePolicy.run(vhostId, name).changes > 0;
  }

  // ---- everything at once -------------------------------------------------------------------------------

  loadDefinitions(): Definitions {
    const st = this.#st;
    return {
      vhosts: st.allVhosts.all().map((r) => ({ id: r.id, name: r.name, metadata: JSON.parse(r.metadata) as Record<string, unknown> })),
      exchanges: st.allExchanges.all().map((r) => ({
        vhost: r.vhost,
        name: r.name,
        type: r.type,
        autoDelete: r.auto_delete === 1,
        internal: r.internal === 1,
        arguments: decodeFieldTable(r.arguments),
      })),
      queues: st.allQueues.all().map((r) => ({
        id: r.id,
        vhost: r.vhost,
        name: r.name,
        type: r.type,
        autoDelete: r.auto_delete === 1,
        arguments: decodeFieldTable(r.arguments),
      })),
      bindings: st.allBindings.all().map((r) => ({
        vhost: r.vhost,
        source: r.source,
        destinationKind: r.destination_kind as 'queue' | 'exchange',
        destination: r.destination,
        routingKey: r.routing_key,
        arguments: decodeFieldTable(r.arguments),
      })),
      users: st.allUsers.all().map((r) => ({ name: r.name, passwordHash: r.password_hash, tags: JSON.parse(r.tags) as string[], ...scramOf(r.scram) })),
      permissions: st.allPermissions.all(),
      topicPermissions: st.allTopicPermissions.all(),
      policies: st.allPolicies.all().map((r) => ({
        vhost: r.vhost,
        name: r.name,
        pattern: r.pattern,
        applyTo: r.apply_to,
        priority: r.priority,
        definition: JSON.parse(r.definition) as Record<string, unknown>,
      })),
    };
  }

  /**
   * Save a whole set of definitions (a definitions-file import) in one transaction: all or
   * nothing. Queue ids in the input are ignored (ids are the database's); @returns the queue
   * ids by "vhost\u0000name"
   */
  importDefinitions(d: Partial<Omit<Definitions, 'vhosts' | 'queues'>> & {
    vhosts?: Omit<VhostDefinition, 'id'>[];
    queues?: Omit<QueueDefinition, 'id'>[];
  }): Map<string, number> {
    return this.#db.transaction(() => {
      const ids = new Map<string, number>();
      for (const v of d.vhosts ?? []) this.saveVhost(v.name, v.metadata);
      for (const u of d.users ?? []) this.saveUser(u);
      for (const p of d.permissions ?? []) this.savePermission(p);
      for (const t of d.topicPermissions ?? []) this.saveTopicPermission(t);
      for (const p of d.policies ?? []) this.savePolicy(p);
      for (const x of d.exchanges ?? []) this.saveExchange(x);
      for (const q of d.queues ?? []) ids.set(`${q.vhost}\u0000${q.name}`, this.saveQueue(q));
      for (const b of d.bindings ?? []) this.saveBinding(b);
      return ids;
    })();
  }

  // ---- node state ------------------------------------------------------------------------------------------

  getState(key: string): string | undefined {
    return this.#st.getState.get(key)?.value;
  }

  setState(key: string, value: string): void {
    this.#st.setState.run(key, value);
  }

  /**
   * The node starts: @returns whether the previous run stopped cleanly, and records that this
   * one has not (yet). Call before accepting connections.
   */
  markStarted(): { cleanShutdown: boolean; firstStart: boolean } {
    return this.#db.transaction(() => {
      const state = this.getState('clean_shutdown');
      this.setState('clean_shutdown', '0');
      // never marked: no node ever started on this database, so there was no stop at all
      return { cleanShutdown: state === '1', firstStart: state === undefined };
    })();
  }

  /** The node stopped cleanly (every journal closed): call last, before `close`. */
  markCleanShutdown(): void {
    this.setState('clean_shutdown', '1');
  }

  /** Checkpoint the WAL into the database file and close. */
  close(): void {
    if (!this.#db.open) return;
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#db.close();
  }

  #requireVhost(name: string): number {
    const id = this.vhostId(name);
    if (id === undefined) throw new RangeError(`vhost '${name}' is not saved`);
    return id;
  }
}

/** stored SCRAM credentials, or nothing for '{}' (a user known only by its hash) */
function scramOf(json: string): { scram?: ScramCredentials } {
  const scram = JSON.parse(json) as ScramCredentials;
  return Object.keys(scram).length > 0 ? { scram } : {};
}
