import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RabbitMQ's password hashing (`rabbit_password_hashing_sha256`, the default since 3.6):
 * `base64(salt ‖ sha256(salt ‖ utf8(password)))` with a 4-byte random salt. Using the same
 * scheme lets definitions exported from RabbitMQ be imported with their users intact.
 */
export function hashPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

export function checkPassword(password: string, passwordHash: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  if (stored.length !== 36) return false;
  const expected = Buffer.from(hashPassword(password, stored.subarray(0, 4)), 'base64');
  return timingSafeEqual(stored, expected);
}
