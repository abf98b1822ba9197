import { checkPassword, hashPassword } from './passwords.js';
import { CompiledPermission, type TopicPermission, type VhostPermission } from './permissions.js';
import { deriveScramCredentials, ScramServerExchange, type ScramCredentials, type ScramMechanism } from './scram.js';

export interface UserRecord {
  name: string;
  /** RabbitMQ-compatible salted SHA-256 hash (see passwords.ts); '' = no password login */
  passwordHash: string;
  /** management tags: administrator, monitoring, management, policymaker … */
  tags: string[];
  /** SCRAM credentials (scram.ts), derived when the password was set in clear; absent for a hash-only user */
  scram?: ScramCredentials;
}

/** The record of a user whose password is given in clear: its hash and its SCRAM credentials. */
export function userWithPassword(name: string, password: string, tags: string[]): UserRecord {
  if (password === '') return { name, passwordHash: '', tags };
  return { name, passwordHash: hashPassword(password), tags, scram: deriveScramCredentials(password) };
}

/**
 * `loopbackOnly`: the credentials were right but the user may only connect from localhost —
 * a protocol that tells the two apart answers "not authorized" rather than "bad credentials"
 * (RabbitMQ's MQTT CONNACK 5).
 */
export type LoginResult = { ok: true; user: string } | { ok: false; reason: string; loopbackOnly?: true };

/** A fixed hash to compare against for unknown users, so timing does not reveal which names exist. */
const DUMMY_HASH = hashPassword('', Buffer.alloc(4));

/**
 * Users, their per-vhost permissions and topic permissions. `loopbackUsers` may log in from
 * loopback addresses only (RabbitMQ's `loopback_users`: by default the well-known guest).
 */
export class UserStore {
  readonly #users = new Map<string, UserRecord>();
  /** user → vhost → permission */
  readonly #permissions = new Map<string, Map<string, { raw: VhostPermission; compiled: CompiledPermission }>>();
  /** user → vhost → topic permissions */
  readonly #topic = new Map<string, Map<string, TopicPermission[]>>();
  readonly #loopbackOnly: Set<string>;

  constructor(loopbackUsers: string[] = ['guest']) {
    this.#loopbackOnly = new Set(loopbackUsers);
  }

  add(name: string, password: string, tags: string[] = []): void {
    this.put(userWithPassword(name, password, tags));
  }

  /** insert or replace a user record (definitions import passes RabbitMQ's hashes through) */
  put(record: UserRecord): void {
    this.#users.set(record.name, record);
  }

  delete(name: string): boolean {
    this.#permissions.delete(name);
    this.#topic.delete(name);
    return this.#users.delete(name);
  }

  get(name: string): UserRecord | undefined {
    return this.#users.get(name);
  }

  has(name: string): boolean {
    return this.#users.has(name);
  }

  list(): UserRecord[] {
    return [...this.#users.values()];
  }

  setPermissions(user: string, vhost: string, p: VhostPermission): void {
    let byVhost = this.#permissions.get(user);
    if (!byVhost) this.#permissions.set(user, (byVhost = new Map()));
    byVhost.set(vhost, { raw: { ...p }, compiled: new CompiledPermission(p) });
  }

  clearPermissions(user: string, vhost: string): void {
    this.#permissions.get(user)?.delete(vhost);
  }

  /** the compiled permission of a user in a vhost, or undefined: no access to that vhost */
  permission(user: string, vhost: string): CompiledPermission | undefined {
    return this.#permissions.get(user)?.get(vhost)?.compiled;
  }

  permissions(): { user: string; vhost: string; permission: VhostPermission }[] {
    const out: { user: string; vhost: string; permission: VhostPermission }[] = [];
    for (const [user, byVhost] of this.#permissions) {
      for (const [vhost, p] of byVhost) out.push({ user, vhost, permission: p.raw });
    }
    return out;
  }

  setTopicPermission(user: string, vhost: string, p: TopicPermission): void {
    let byVhost = this.#topic.get(user);
    if (!byVhost) this.#topic.set(user, (byVhost = new Map()));
    const list = (byVhost.get(vhost) ?? []).filter((t) => t.exchange !== p.exchange);
    list.push({ ...p });
    byVhost.set(vhost, list);
  }

  clearTopicPermissions(user: string, vhost: string, exchange?: string): void {
    const byVhost = this.#topic.get(user);
    if (!byVhost) return;
    if (exchange === undefined) byVhost.delete(vhost);
    else byVhost.set(vhost, (byVhost.get(vhost) ?? []).filter((t) => t.exchange !== exchange));
  }

  topicPermissions(user: string, vhost: string): TopicPermission[] {
    return this.#topic.get(user)?.get(vhost) ?? [];
  }

  login(name: string, password: string, peerHost: string): LoginResult {
    const user = this.#users.get(name);
    const hash = user?.passwordHash || DUMMY_HASH;
    // one salted SHA-256 per login (~1-2 µs): no cache of passwords that verified, which would
    // keep clear-text passwords in memory for a saving of ~3 % of a CONNECT's CPU
    const valid = checkPassword(password, hash) && !!user && user.passwordHash !== '';
    if (!valid) return { ok: false, reason: `user '${name}' - invalid credentials` };
    if (this.#loopbackOnly.has(name) && !isLoopback(peerHost)) {
      return { ok: false, reason: `user '${name}' can only connect via localhost`, loopbackOnly: true };
    }
    return { ok: true, user: name };
  }

  /**
   * A SCRAM exchange against the users' stored credentials. Once it succeeds, the name it
   * authenticated goes through `loginVerified` (the loopback rule).
   */
  scramExchange(mechanism: ScramMechanism): ScramServerExchange {
    return new ScramServerExchange(mechanism, (name) => {
      const u = this.#users.get(name);
      return u === undefined || u.passwordHash === '' ? undefined : u.scram?.[mechanism];
    });
  }

  /**
   * Login without a password for an identity something else has verified: the common name
   * of a TLS client certificate checked against the CA (RabbitMQ's EXTERNAL mechanism,
   * rabbitmq_auth_mechanism_ssl, and `ssl_cert_login` of MQTT and STOMP). The user must
   * exist; whether it has a password does not matter; loopback-only users stay loopback-only.
   */
  loginVerified(name: string, peerHost: string): LoginResult {
    if (!this.#users.has(name)) return { ok: false, reason: `user '${name}' - unknown user (certificate login)` };
    if (this.#loopbackOnly.has(name) && !isLoopback(peerHost)) {
      return { ok: false, reason: `user '${name}' can only connect via localhost`, loopbackOnly: true };
    }
    return { ok: true, user: name };
  }
}

export function isLoopback(host: string): boolean {
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host === '::1' || host.startsWith('127.') || host === 'localhost';
}
