import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mutual authentication by the cluster secret, which never crosses the wire:
 *
 *   leader → HELLO   { v: 1, leaderId, epoch, nonce: Nl }
 *   follower → AUTH  { nodeId, epoch, nonce: Nf, mac: HMAC(secret, "follower" Nl nodeId) }
 *   leader → WELCOME { mac: HMAC(secret, "leader" Nf leaderId epoch) }
 *
 * HMAC-SHA256, fields joined by NUL. Each side's nonce is fresh per connection, so a recorded
 * exchange cannot be replayed; the leader's mac binds its epoch, so a follower knows which
 * epoch it is following and refuses an older one (fencing).
 */
export const PROTOCOL_VERSION = 1;

export const newNonce = (): string => randomBytes(16).toString('hex');

export function followerMac(secret: string, leaderNonce: string, nodeId: string): string {
  return mac(secret, ['follower', leaderNonce, nodeId]);
}

export function leaderMac(secret: string, followerNonce: string, leaderId: string, epoch: number): string {
  return mac(secret, ['leader', followerNonce, leaderId, String(epoch)]);
}

/** Constant-time comparison of two hex macs. */
export function macEquals(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function mac(secret: string, fields: string[]): string {
  return createHmac('sha256', secret).update(fields.join('\0')).digest('hex');
}
