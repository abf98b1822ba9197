/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677): the credentials derived from a
 * password, and the server side of one authentication exchange.
 *
 * A RabbitMQ-style password hash (passwords.ts) cannot give SCRAM's keys, so they are derived
 * when a password is set in clear (CLI, management API, definitions with `password`, the
 * configured default user) and stored beside the user: per mechanism a random salt, the
 * iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey =
 * HMAC(SaltedPassword, "Server Key") — never the password. A user that has only a hash (an
 * imported one) has no SCRAM credentials and cannot log in with SCRAM.
 *
 * Passwords and names are taken as UTF-8 without SASLprep, as Kafka's brokers and clients do
 * (kafkajs, librdkafka). Channel binding is not supported (gs2 flag `p` is refused).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** RFC 7677 asks for at least 4096 (Kafka's default too). */
export const SCRAM_ITERATIONS = 4096;

export interface ScramCredential {
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 */
  storedKey: string;
  /** base64 */
  serverKey: string;
}

export type ScramCredentials = Partial<Record<ScramMechanism, ScramCredential>>;

const DIGEST: Record<ScramMechanism, { hash: 'sha256' | 'sha512'; length: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', length: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', length: 64 },
};

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

/** Both mechanisms' credentials for `password` (fresh salts). */
export function deriveScramCredentials(password: string, iterations = SCRAM_ITERATIONS): ScramCredentials {
  const out: ScramCredentials = {};
  for (const m of SCRAM_MECHANISMS) out[m] = deriveCredential(m, password, randomBytes(16), iterations);
  return out;
}

/** One mechanism's credential for `password` with `salt`. */
export function deriveCredential(m: ScramMechanism, password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramCredential {
  const { hash, length } = DIGEST[m];
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, length, hash);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: createHash(hash).update(clientKey).digest('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

function hmac(hash: string, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/** Salts for names without credentials: stable per name (a retry sees the same), unrelated to any real one. */
const FAKE_SALT_KEY = randomBytes(32);

export type ScramStep = { ok: true; reply: Buffer } | { ok: false; reason: string };
export type ScramOutcome = { ok: true; user: string; reply: Buffer } | { ok: false; reason: string };

/**
 * One server-side exchange: `first(client-first-message)` → server-first-message, then
 * `final(client-final-message)` → server-final-message and the authenticated name. A name
 * without credentials for the mechanism gets a made-up salt and fails at the proof, like a
 * wrong password, so the exchange does not tell which names exist; the reason (for the log)
 * says which it was.
 */
export class ScramServerExchange {
  readonly mechanism: ScramMechanism;
  readonly #lookup: (user: string) => ScramCredential | undefined;
  #user = '';
  #credential: ScramCredential | undefined;
  #clientFirstBare = '';
  #serverFirst = '';
  #gs2Header = '';
  #nonce = '';
  #done = false;

  readonly #serverNonce: () => string;

  /** @param serverNonce the server's part of the nonce (random; fixed only by RFC test vectors) */
  constructor(mechanism: ScramMechanism, lookup: (user: string) => ScramCredential | undefined, serverNonce = () => randomBytes(18).toString('base64')) {
    this.mechanism = mechanism;
    this.#lookup = lookup;
    this.#serverNonce = serverNonce;
  }

  /** the name the client gave (after `first`) */
  get user(): string {
    return this.#user;
  }

  first(message: Buffer): ScramStep {
    const text = message.toString('utf8');
    // gs2-header: cbind-flag "," [authzid] ","
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(text);
    if (m === null) return { ok: false, reason: 'malformed SCRAM client-first-message' };
    if (m[1]!.startsWith('p=')) return { ok: false, reason: 'SCRAM channel binding is not supported' };
    const bare = m[3]!;
    const attrs = attributes(bare);
    if (attrs === null || bare.startsWith('m=')) return { ok: false, reason: 'malformed SCRAM client-first-message' };
    const user = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (user === undefined || clientNonce === undefined || clientNonce === '') return { ok: false, reason: 'SCRAM client-first-message without name or nonce' };
    const name = unescapeName(user);
    if (name === null) return { ok: false, reason: 'malformed SCRAM user name' };
    // Kafka's delegation-token extension: no delegation tokens here
    if (attrs.get('tokenauth') === 'true') return { ok: false, reason: 'SCRAM delegation tokens are not supported' };
    const authzid = m[2] === undefined ? '' : unescapeName(m[2].slice(2));
    if (authzid === null || (authzid !== '' && authzid !== name)) return { ok: false, reason: 'SCRAM authorization identity differs from the user' };
    this.#user = name;
    this.#credential = this.#lookup(name);
    this.#gs2Header = text.slice(0, text.length - bare.length);
    this.#clientFirstBare = bare;
    this.#nonce = clientNonce + this.#serverNonce();
    const salt = this.#credential?.salt ?? hmac('sha256', FAKE_SALT_KEY, `${this.mechanism}\0${name}`).subarray(0, 16).toString('base64');
    const iterations = this.#credential?.iterations ?? SCRAM_ITERATIONS;
    this.#serverFirst = `r=${this.#nonce},s=${salt},i=${iterations}`;
    return { ok: true, reply: Buffer.from(this.#serverFirst, 'utf8') };
  }

  final(message: Buffer): ScramOutcome {
    if (this.#serverFirst === '' || this.#done) return { ok: false, reason: 'SCRAM client-final-message out of order' };
    this.#done = true;
    const text = message.toString('utf8');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return { ok: false, reason: 'SCRAM client-final-message without proof' };
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs === null) return { ok: false, reason: 'malformed SCRAM client-final-message' };
    if (attrs.get('c') !== Buffer.from(this.#gs2Header, 'utf8').toString('base64')) return { ok: false, reason: 'SCRAM channel binding does not match' };
    // RFC 5802 wants the nonce back as sent; librdkafka sends its own nonce before the whole
    // combined one, and Kafka's broker accepts a nonce that ends with the combined one, so do we
    // (it still carries this exchange's random part)
    const nonce = attrs.get('r');
    if (nonce === undefined || !nonce.endsWith(this.#nonce)) return { ok: false, reason: 'SCRAM nonce does not match' };
    const credential = this.#credential;
    if (credential === undefined) return { ok: false, reason: `user '${this.#user}' - no ${this.mechanism} credentials (unknown user, or a password set only as a hash)` };
    const { hash, length } = DIGEST[this.mechanism];
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (proof.length !== length) return { ok: false, reason: `user '${this.#user}' - invalid credentials` };
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(credential.storedKey, 'base64');
    const signature = hmac(hash, storedKey, authMessage);
    const clientKey = Buffer.alloc(length);
    for (let i = 0; i < length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    const candidate = createHash(hash).update(clientKey).digest();
    if (candidate.length !== storedKey.length || !timingSafeEqual(candidate, storedKey)) return { ok: false, reason: `user '${this.#user}' - invalid credentials` };
    const serverSignature = hmac(hash, Buffer.from(credential.serverKey, 'base64'), authMessage);
    return { ok: true, user: this.#user, reply: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') };
  }
}

/** `k=v,k=v` attributes (RFC 5802 §5.1: a one-letter name, or Kafka's named extensions); null when malformed. */
function attributes(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) return null;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** saslname: '=2C' is ',' and '=3D' is '='; any other '=' is malformed. */
function unescapeName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}
