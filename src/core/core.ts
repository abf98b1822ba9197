import { UserStore, userWithPassword, type LoginResult, type UserRecord } from '../auth/users.js';
import type { TopicPermission, VhostPermission } from '../auth/permissions.js';
import type { ScramMechanism, ScramServerExchange } from '../auth/scram.js';
import { ConnectionAccess } from '../auth/access.js';
import { LoginFailures } from '../auth/login-failures.js';
import type { Logger } from '../log/index.js';
import type { ConnectionInfo, CoreConnection } from './api.js';
import { Connection, type ConnectionRegistry } from './connection.js';
import { BrokerError, notFound } from './errors.js';
import { ExchangeTypeRegistry } from './exchanges/registry.js';
import { VHost } from './vhost.js';
import { QueueTypeRegistry } from './queues/registry.js';
import { Limits, type VhostLimits } from './limits.js';
import { Alarms } from './alarms.js';
import { PublisherFlow } from './publisher-flow.js';
import { openNodeStore, type NodeStoreOptions, type NodeStore } from './node-store.js';
import type { Policy } from './policies.js';
import { streamViewOf, streamViewsOf, type StreamView } from './stream-view.js';
import type { FieldTable } from '../codec/types.js';
import type { BrokerStream, ProtocolCore, QueueSummary } from './protocol-core.js';
import { queueSummaryOf } from './queue-queries.js';
import type { AdminCore, UserUpdate } from './admin-core.js';
import { CoreSnapshots } from './core-snapshots.js';
import { exportDefinitions, exportVhostDefinitions } from '../definitions/export-definitions.js';
import { importDefinitions, type ImportReport } from '../definitions/import-definitions.js';
import type { RabbitDefinitions } from '../definitions/rabbit-format.js';
import { brokerStreamOf } from './broker-stream.js';
import type { Db } from '../store/metadata/db.js';
import type { LargeBodyWriter } from '../store/large-body.js';
import { tapDatabase, type MetadataTap } from '../store/metadata/tap.js';

export interface CoreOptions {
  log?: Logger;
  /** created at start with full rights, as RabbitMQ's default_user/default_pass */
  defaultUser?: string;
  defaultPass?: string;
  /** users that may log in from loopback addresses only */
  loopbackUsers?: string[];
  defaultVhost?: string;
}

/**
 * The broker core: vhosts with their exchanges and queues, users, and the connections of
 * every front-end. Protocol-neutral: plugins reach it through the `ProtocolCore` interface
 * (`connect` and the `Session` API) and, for operators, `AdminCore`; never as this class.
 */
export class Core extends CoreSnapshots implements ConnectionRegistry, ProtocolCore, AdminCore {
  readonly exchangeTypes = new ExchangeTypeRegistry();
  readonly queueTypes = new QueueTypeRegistry();
  readonly limits = new Limits();
  readonly alarms = new Alarms();
  /** publisher flow by bytes (publisher-flow.ts), one for every vhost */
  readonly publisherFlow = new PublisherFlow();
  readonly vhosts = new Map<string, VHost>();
  readonly connections = new Map<number, Connection>();
  readonly users: UserStore;
  readonly defaultVhost: string;
  readonly log: Logger | undefined;
  /** failed logins: logged and answered after a pause (auth.failure_delay) */
  readonly loginFailures: LoginFailures;
  /** largest message body accepted on any protocol (max_message_size; RabbitMQ's default, 128 MiB) */
  maxMessageSize = 128 * 1024 * 1024;
  /** bodies above this are streamed through the vhost's journal (large_message_threshold) */
  largeMessageThreshold = 8 * 1024 * 1024;
  #store: NodeStore | null = null;
  #dataDir: string | null = null;
  /** replication's tap on SQLite databases (BrokerSetup.metadataTap), for plugins' own */
  #databaseTap: MetadataTap | null = null;
  /** vhosts being created (their journal opening), so that two creations do not race */
  readonly #creating = new Map<string, Promise<VHost>>();

  constructor(options: CoreOptions = {}) {
    super();
    this.log = options.log;
    this.loginFailures = new LoginFailures(options.log);
    this.users = new UserStore(options.loopbackUsers ?? ['guest']);
    const defaultUser = options.defaultUser ?? 'guest';
    this.users.add(defaultUser, options.defaultPass ?? 'guest', ['administrator']);
    this.defaultVhost = options.defaultVhost ?? '/';
    this.addVhost(this.defaultVhost);
    this.users.setPermissions(defaultUser, this.defaultVhost, { configure: '.*', write: '.*', read: '.*' });
  }

  addVhost(name: string): VHost {
    let v = this.vhosts.get(name);
    if (!v) {
      v = new VHost(name, this.exchangeTypes, this.queueTypes, this.limits, this.publisherFlow);
      this.vhosts.set(name, v);
    }
    return v;
  }

  hasVhost(name: string): boolean {
    return this.vhosts.has(name);
  }

  login(user: string, password: string, peerHost: string): LoginResult {
    return this.users.login(user, password, peerHost);
  }

  /**
   * Login of an identity a front-end got verified by TLS (the client certificate's CN or DN):
   * no password, but the user must exist and loopback-only users stay loopback-only.
   */
  loginVerified(user: string, peerHost: string): LoginResult {
    return this.users.loginVerified(user, peerHost);
  }

  scramExchange(mechanism: ScramMechanism): ScramServerExchange {
    return this.users.scramExchange(mechanism);
  }

  /**
   * Register a client connection of an authenticated user; 530 NOT_ALLOWED when its vhost
   * does not exist or the user has no permissions there (RabbitMQ's connection.open checks).
   */
  connect(info: ConnectionInfo): CoreConnection {
    const refused = this.vhostAccessError(info.user, info.vhost);
    if (refused) throw refused;
    const vhost = this.vhosts.get(info.vhost)!;
    const permission = this.users.permission(info.user, info.vhost)!;
    let inVhost = 0;
    let ofUser = 0;
    // counted only under a vhost or user limit: a walk over every connection per CONNECT made
    // a storm of 10,000 device connections quadratic
    if (this.limits.limitsConnectionsOf(info.vhost, info.user)) {
      for (const c of this.connections.values()) {
        if (c.info.vhost === info.vhost) inVhost++;
        if (c.info.user === info.user) ofUser++;
      }
    }
    this.limits.checkConnection(info.vhost, info.user, { total: this.connections.size, inVhost, ofUser });
    const access = new ConnectionAccess(info.user, info.vhost, permission, this.users.topicPermissions(info.user, info.vhost), info.name);
    const c = new Connection(info, vhost, this, access, this.limits);
    this.connections.set(c.id, c);
    return c;
  }

  /**
   * Why `user` may not open a connection to `vhost` (it does not exist, or the user has no
   * permissions there), or null. Front-ends ask first, so that this refusal is handled as a
   * failed login (logged, delayed) and anything `connect` refuses after it is a limit.
   */
  vhostAccessError(user: string, vhost: string): BrokerError | null {
    if (!this.vhosts.has(vhost)) return new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - vhost ${vhost} not found`);
    if (!this.users.permission(user, vhost)) {
      return new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - access to vhost '${vhost}' refused for user '${user}'`);
    }
    return null;
  }

  /** The stream queue `name` in `vhost` as a read-only view (undefined: no such stream). */
  stream(vhost: string, name: string): StreamView | undefined {
    return streamViewOf(this.vhosts.get(vhost), name);
  }

  /** Every stream queue of `vhost`. */
  streams(vhost: string): StreamView[] {
    return streamViewsOf(this.vhosts.get(vhost));
  }

  brokerStream(vhost: string, name: string, args: FieldTable): BrokerStream {
    return brokerStreamOf(this.vhosts.get(vhost), vhost, name, args);
  }

  vhostLimits(vhost: string): Readonly<VhostLimits> {
    return { ...this.limits.vhost(vhost) };
  }

  queueCount(vhost: string): number {
    return this.vhosts.get(vhost)?.queues.size ?? 0;
  }

  queue(vhost: string, name: string): QueueSummary | undefined {
    const q = this.vhosts.get(vhost)?.queues.get(name);
    return q ? queueSummaryOf(vhost, q) : undefined;
  }

  connectionClosed(c: Connection): void {
    this.connections.delete(c.id);
  }

  /**
   * Close a client connection from the server side (management): its front-end tells the
   * client `reason` and closes; without a front-end hook the core side just ends.
   * @returns false when no such connection is open
   */
  closeConnection(id: number, reason: string): boolean {
    const c = this.connections.get(id);
    if (!c) return false;
    const closer = c.onServerClose;
    if (typeof closer === 'function') closer(reason);
    else if (closer !== null) closer.serverClose(reason);
    else c.close();
    return true;
  }

  /**
   * Keep durable state in `dataDir` and bring back what a previous run left there. Without
   * it the core keeps everything in memory (an embedded broker for tests, say).
   */
  async openStore(dataDir: string, options: NodeStoreOptions = {}): Promise<void> {
    if (this.#store) throw new Error('store already open');
    this.#store = await openNodeStore(this, dataDir, options, this.log);
    this.#dataDir = dataDir;
    this.#databaseTap = options.metadataTap ?? null;
  }

  replicateDatabase(db: Db, name: string): void {
    if (this.#databaseTap !== null) tapDatabase(db, name, this.#databaseTap);
  }

  afterMetadataReplicated(done: (refusal: Error | null) => void): void {
    const hold = this.#databaseTap?.hold;
    if (hold === undefined) done(null);
    else hold.call(this.#databaseTap, done);
  }

  deferMetadataSync<T>(fn: () => T): T {
    return this.#store ? this.#store.meta.deferredSync.run(fn) : fn();
  }

  whenMetadataDurable(done: (error: Error | null) => void): void {
    if (this.#store) this.#store.meta.deferredSync.whenDurable(done);
    else done(null);
  }

  /** The data directory while the store is open (null: everything in memory); plugins keep their own files under it. */
  get dataDir(): string | null {
    return this.#dataDir;
  }

  beginLargeBody(vhost: string, size: number): LargeBodyWriter | null {
    const messages = this.vhosts.get(vhost)?.store?.messages;
    return messages?.beginBody !== undefined && messages.failure === null ? messages.beginBody(size) : null;
  }

  // ---- definitions changed by operators (management, definitions files): live and saved ----

  /** Create a vhost, or update its metadata; with the store open it gets its journal and is saved. */
  async createVhost(name: string, metadata: Record<string, unknown> = {}): Promise<VHost> {
    const pending = this.#creating.get(name);
    if (pending) await pending;
    const existing = this.vhosts.get(name);
    if (existing) {
      // limits live in the metadata too (setVhostLimits): new metadata does not drop them
      existing.metadata = 'limits' in existing.metadata && !('limits' in metadata) ? { ...metadata, limits: existing.metadata.limits } : metadata;
      metadata = existing.metadata;
      this.#store?.meta.saveVhost(name, metadata);
      return existing;
    }
    const v = new VHost(name, this.exchangeTypes, this.queueTypes, this.limits);
    v.metadata = metadata;
    const creating = (async () => {
      await this.#store?.attachVhost(v);
      this.vhosts.set(name, v);
      return v;
    })();
    this.#creating.set(name, creating);
    try {
      return await creating;
    } finally {
      this.#creating.delete(name);
    }
  }

  /** Delete a vhost with everything in it: its connections are closed, its messages dropped. */
  async deleteVhost(name: string): Promise<boolean> {
    const v = this.vhosts.get(name);
    if (!v) return false;
    this.vhosts.delete(name);
    for (const c of [...this.connections.values()]) if (c.info.vhost === name) this.closeConnection(c.id, `vhost '${name}' is deleted`);
    v.stopTimers();
    for (const u of this.users.list()) {
      this.users.clearPermissions(u.name, name);
      this.users.clearTopicPermissions(u.name, name);
    }
    if (this.#store) {
      // the definitions first: a journal whose vhost row is gone is never opened again
      this.#store.meta.deleteVhost(name);
      await this.#store.detachVhost(v);
    }
    return true;
  }

  /** Add or replace a user: a password gives its hash and SCRAM credentials here, a hash is kept as given (definitions carry RabbitMQ's). */
  putUser(user: UserUpdate): void {
    const record: UserRecord = 'password' in user ? userWithPassword(user.name, user.password, user.tags) : user;
    this.users.put(record);
    this.#store?.meta.saveUser(record);
  }

  /** Delete a user and its permissions; its open connections are closed (as RabbitMQ does). */
  deleteUser(name: string): boolean {
    if (!this.users.delete(name)) return false;
    this.#store?.meta.deleteUser(name);
    for (const c of [...this.connections.values()]) if (c.info.user === name) this.closeConnection(c.id, `user '${name}' is deleted`);
    return true;
  }

  /** @throws BrokerError NOT_FOUND for an unknown user or vhost */
  setPermissions(user: string, vhost: string, p: VhostPermission): void {
    this.#requireUserAndVhost(user, vhost);
    const permission = { configure: p.configure, write: p.write, read: p.read };
    this.users.setPermissions(user, vhost, permission);
    this.#store?.meta.savePermission({ user, vhost, ...permission });
  }

  clearPermissions(user: string, vhost: string): void {
    this.users.clearPermissions(user, vhost);
    this.#store?.meta.deletePermission(user, vhost);
  }

  /** @throws BrokerError NOT_FOUND for an unknown user or vhost */
  setTopicPermission(user: string, vhost: string, t: TopicPermission): void {
    this.#requireUserAndVhost(user, vhost);
    const permission = { exchange: t.exchange, write: t.write, read: t.read };
    this.users.setTopicPermission(user, vhost, permission);
    this.#store?.meta.saveTopicPermission({ user, vhost, ...permission });
  }

  clearTopicPermissions(user: string, vhost: string, exchange?: string): void {
    this.users.clearTopicPermissions(user, vhost, exchange);
    this.#store?.meta.deleteTopicPermissions(user, vhost, exchange);
  }

  /** Set a policy: validated, applied to the vhost's queues and exchanges now, saved. */
  setPolicy(p: Policy): void {
    const v = this.vhosts.get(p.vhost);
    if (!v) throw notFound('vhost', p.vhost, p.vhost);
    v.setPolicy(p);
    this.#store?.meta.savePolicy({ ...p, definition: { ...p.definition } });
  }

  /** Set a vhost's limits (-1: none), live and saved with the vhost. @throws BrokerError NOT_FOUND */
  setVhostLimits(vhost: string, limits: Partial<VhostLimits>): void {
    const v = this.vhosts.get(vhost);
    if (!v) throw new BrokerError('NOT_FOUND', `NOT_FOUND - no vhost '${vhost}'`);
    this.limits.setVhostLimits(vhost, limits);
    v.metadata = { ...v.metadata, limits: this.limits.vhost(vhost) };
    this.#store?.meta.saveVhost(vhost, v.metadata);
  }

  clearPolicy(vhost: string, name: string): boolean {
    const had = this.vhosts.get(vhost)?.clearPolicy(name) ?? false;
    if (had) this.#store?.meta.deletePolicy(vhost, name);
    return had;
  }

  importDefinitions(definitions: unknown, vhost?: string): Promise<ImportReport> {
    return importDefinitions(this, definitions, vhost);
  }

  exportDefinitions(productVersion: string, vhost?: string): RabbitDefinitions | undefined {
    if (vhost === undefined) return exportDefinitions(this, productVersion);
    const v = this.vhosts.get(vhost);
    return v ? exportVhostDefinitions(v, productVersion) : undefined;
  }

  #requireUserAndVhost(user: string, vhost: string): void {
    if (!this.users.has(user)) throw new BrokerError('NOT_FOUND', `NOT_FOUND - no user '${user}'`);
    if (!this.vhosts.has(vhost)) throw new BrokerError('NOT_FOUND', `NOT_FOUND - no vhost '${vhost}'`);
  }

  /** Close every remaining connection (front-ends have told their clients already). */
  shutdown(): void {
    this.alarms.stop();
    for (const c of [...this.connections.values()]) c.close();
    for (const v of this.vhosts.values()) v.stopTimers();
  }

  /** Flush and close the stores (after `shutdown`), marking a clean stop. */
  async closeStore(): Promise<void> {
    const store = this.#store;
    this.#store = null;
    this.#dataDir = null;
    await store?.close();
    for (const v of this.vhosts.values()) v.store = null;
  }
}
