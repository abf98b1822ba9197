/**
 * Passwords that verified lately, per user: a device fleet logs in with the same credentials
 * thousands of times a second in a connect storm, and each check is a salted digest
 * (passwords.ts). A password equal to the one that last verified against the user's current
 * hash is accepted without one, as RabbitMQ's rabbitmq_auth_backend_cache accepts a cached
 * answer. An entry holds only for the hash it verified against: a changed password (a new hash,
 * new salt) or a deleted user misses, and `forget` drops it at once. Bounded: the oldest
 * entries go past `MAX_USERS`.
 */

/** fleets with a user per device: past this many users the least recent entry goes */
const MAX_USERS = 4096;

export class VerifiedPasswords {
  /** user → the password that verified, and the stored hash it verified against (insertion order = recency) */
  readonly #byUser = new Map<string, { hash: string; password: string }>();

  /** whether `password` is the one that last verified for `user` against `hash` */
  has(user: string, hash: string, password: string): boolean {
    const e = this.#byUser.get(user);
    return e !== undefined && e.hash === hash && sameSecret(e.password, password);
  }

  add(user: string, hash: string, password: string): void {
    this.#byUser.delete(user);
    if (this.#byUser.size >= MAX_USERS) this.#byUser.delete(this.#byUser.keys().next().value!);
    this.#byUser.set(user, { hash, password });
  }

  forget(user: string): void {
    this.#byUser.delete(user);
  }
}

/**
 * Equal strings, in a time that depends on their length only, not on where they differ. A
 * mismatch goes on to the full digest check, so its time is what a wrong password costs anyway.
 */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
