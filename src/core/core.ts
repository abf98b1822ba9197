import { UserStore, type LoginResult } from '../auth/users.js';
import { ConnectionAccess } from '../auth/access.js';
import type { Logger } from '../log.js';
import type { ConnectionInfo, CoreConnection } from './api.js';
import { Connection, type ConnectionRegistry } from './connection.js';
import { BrokerError } from './errors.js';
import { ExchangeTypeRegistry } from './exchanges/registry.js';
import { VHost } from './vhost.js';
import { Limits } from './limits.js';
import { Alarms } from './alarms.js';
import { openPersistence, type PersistenceOptions } from './persistence.js';

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
 * every front-end. Protocol-neutral: plugins reach it through `connect` and the `Session` API.
 */
export class Core implements ConnectionRegistry {
  readonly exchangeTypes = new ExchangeTypeRegistry();
  readonly limits = new Limits();
  readonly alarms = new Alarms();
  readonly vhosts = new Map<string, VHost>();
  readonly connections = new Map<number, Connection>();
  readonly users: UserStore;
  readonly defaultVhost: string;
  readonly log: Logger | undefined;
  #closeStorage: (() => Promise<void>) | null = null;

  constructor(options: CoreOptions = {}) {
    this.log = options.log;
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
      v = new VHost(name, this.exchangeTypes, this.limits);
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
   * Register a client connection of an authenticated user; 530 NOT_ALLOWED when its vhost
   * does not exist or the user has no permissions there (RabbitMQ's connection.open checks).
   */
  connect(info: ConnectionInfo): CoreConnection {
    const vhost = this.vhosts.get(info.vhost);
    if (!vhost) throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - vhost ${info.vhost} not found`);
    const permission = this.users.permission(info.user, info.vhost);
    if (!permission) {
      throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - access to vhost '${info.vhost}' refused for user '${info.user}'`);
    }
    let inVhost = 0;
    let ofUser = 0;
    for (const c of this.connections.values()) {
      if (c.info.vhost === info.vhost) inVhost++;
      if (c.info.user === info.user) ofUser++;
    }
    this.limits.checkConnection(info.vhost, info.user, { total: this.connections.size, inVhost, ofUser });
    const access = new ConnectionAccess(info.user, info.vhost, permission, this.users.topicPermissions(info.user, info.vhost), info.name);
    const c = new Connection(info, vhost, this, access, this.limits);
    this.connections.set(c.id, c);
    return c;
  }

  connectionClosed(c: Connection): void {
    this.connections.delete(c.id);
  }

  /**
   * Keep durable state in `dataDir` and bring back what a previous run left there. Without
   * it the core keeps everything in memory (an embedded broker for tests, say).
   */
  async openStorage(dataDir: string, options: PersistenceOptions = {}): Promise<void> {
    if (this.#closeStorage) throw new Error('storage already open');
    this.#closeStorage = await openPersistence(this, dataDir, options, this.log);
  }

  /** Close every remaining connection (front-ends have told their clients already). */
  shutdown(): void {
    this.alarms.stop();
    for (const c of [...this.connections.values()]) c.close();
    for (const v of this.vhosts.values()) v.stopTimers();
  }

  /** Flush and close the stores (after `shutdown`), marking a clean stop. */
  async closeStorage(): Promise<void> {
    const close = this.#closeStorage;
    this.#closeStorage = null;
    await close?.();
    for (const v of this.vhosts.values()) v.persistence = null;
  }
}
