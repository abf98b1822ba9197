import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RabbitMQ's password hashing (`rabbit_password_hashing_sha256`, the default since 3.6):
 * `base64(salt ‖ sha256(salt ‖ utf8(password)))` with a 4-byte random salt. Using the same
 * scheme lets definitions exported from RabbitMQ be imported with their users intact.
 */
export function hashPassword(password: string, salt: Buffer = randomBytes(4), algorithm: HashAlgorithm = 'sha256'): string {
  const digest = createHash(algorithm).update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

export type HashAlgorithm = 'sha256' | 'sha512' | 'md5';

/**
 * The algorithm of a stored hash, told by its length: RabbitMQ's other schemes
 * (`rabbit_password_hashing_sha512`, legacy `_md5`) have the same layout with another
 * digest, and definitions exported from brokers configured with them carry such hashes.
 */
const ALGORITHM_BY_LENGTH = new Map<number, HashAlgorithm>([
  [4 + 32, 'sha256'],
  [4 + 64, 'sha512'],
  [4 + 16, 'md5'],
]);

export function checkPassword(password: string, passwordHash: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  const algorithm = ALGORITHM_BY_LENGTH.get(stored.length);
  if (!algorithm) return false;
  // checked at every login (a connect storm of devices): one one-shot digest of salt ‖ password,
  // compared with the stored digest as it is, without encoding and decoding it again
  const digest = hash(algorithm, Buffer.concat([stored.subarray(0, 4), Buffer.from(password, 'utf8')]), 'buffer');
  return timingSafeEqual(stored.subarray(4), digest);
}
