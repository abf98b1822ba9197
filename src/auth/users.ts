import { createHash, timingSafeEqual } from 'node:crypto';

export interface UserRecord {
  name: string;
  /** SHA-256 of the password; salted RabbitMQ-compatible hashes arrive with the security issue */
  passwordHash: Buffer;
  tags: string[];
}

export type LoginResult = { ok: true; user: string } | { ok: false; reason: string };

const hash = (password: string) => createHash('sha256').update(password, 'utf8').digest();

/**
 * The users who may log in, and which of them only from loopback (RabbitMQ's
 * `loopback_users`: by default the well-known guest account cannot log in remotely).
 */
export class UserStore {
  readonly #users = new Map<string, UserRecord>();
  readonly #loopbackOnly: Set<string>;

  constructor(loopbackUsers: string[] = ['guest']) {
    this.#loopbackOnly = new Set(loopbackUsers);
  }

  add(name: string, password: string, tags: string[] = []): void {
    this.#users.set(name, { name, passwordHash: hash(password), tags });
  }

  has(name: string): boolean {
    return this.#users.has(name);
  }

  login(name: string, password: string, peerHost: string): LoginResult {
    const user = this.#users.get(name);
    // compare in constant time, and hash even for unknown users so timing does not tell them apart
    const given = hash(password);
    if (!user || !timingSafeEqual(given, user.passwordHash)) {
      return { ok: false, reason: `user '${name}' - invalid credentials` };
    }
    if (this.#loopbackOnly.has(name) && !isLoopback(peerHost)) {
      return { ok: false, reason: `user '${name}' can only connect via localhost` };
    }
    return { ok: true, user: name };
  }
}

export function isLoopback(host: string): boolean {
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host === '::1' || host.startsWith('127.') || host === 'localhost';
}
