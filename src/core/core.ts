import { UserStore, type LoginResult } from '../auth/users.js';
import type { Logger } from '../log.js';
import type { ConnectionInfo, CoreConnection } from './api.js';
import { Connection, type ConnectionRegistry } from './connection.js';
import { BrokerError } from './errors.js';
import { ExchangeTypeRegistry } from './exchanges/registry.js';
import { VHost } from './vhost.js';

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
  readonly vhosts = new Map<string, VHost>();
  readonly connections = new Map<number, Connection>();
  readonly users: UserStore;
  readonly defaultVhost: string;
  readonly log: Logger | undefined;

  constructor(options: CoreOptions = {}) {
    this.log = options.log;
    this.users = new UserStore(options.loopbackUsers ?? ['guest']);
    this.users.add(options.defaultUser ?? 'guest', options.defaultPass ?? 'guest', ['administrator']);
    this.defaultVhost = options.defaultVhost ?? '/';
    this.addVhost(this.defaultVhost);
  }

  addVhost(name: string): VHost {
    let v = this.vhosts.get(name);
    if (!v) {
      v = new VHost(name, this.exchangeTypes);
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

  /** Register a client connection; 530 NOT_ALLOWED when its vhost does not exist. */
  connect(info: ConnectionInfo): CoreConnection {
    const vhost = this.vhosts.get(info.vhost);
    if (!vhost) throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - vhost ${info.vhost} not found`);
    const c = new Connection(info, vhost, this);
    this.connections.set(c.id, c);
    return c;
  }

  connectionClosed(c: Connection): void {
    this.connections.delete(c.id);
  }

  /** Close every remaining connection (front-ends have told their clients already). */
  shutdown(): void {
    for (const c of [...this.connections.values()]) c.close();
  }
}
