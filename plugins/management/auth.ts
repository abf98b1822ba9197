/**
 * Who is asking, and what they may see: HTTP basic auth against the broker's users, and
 * RabbitMQ's management tags (https://www.rabbitmq.com/docs/management#permissions):
 *
 *   management    their own connections and channels; queues, exchanges, bindings and
 *                 policies of the vhosts they have permissions in
 *   policymaker   management + change policies in those vhosts
 *   monitoring    management + every vhost, connection and channel, node statistics
 *   administrator everything: users, vhosts, permissions, definitions
 *
 * Operations on queues and exchanges are further held to the user's vhost permissions by
 * the core itself (the API works through a core session of the user).
 */
import type { AdminCore, ConnectionSnapshot, ProtocolCore } from '../../src/core/index.js';
import { HttpError, notAuthorised } from './http.js';

export type Capability = 'management' | 'policymaker' | 'monitoring' | 'administrator';

export interface Principal {
  readonly user: string;
  readonly tags: readonly string[];
  readonly peerHost: string;
  readonly isAdmin: boolean;
  readonly isMonitor: boolean;
  readonly isPolicymaker: boolean;
}

const REALM = { 'www-authenticate': 'Basic realm="Warren Management"' };

/** The user of an `Authorization: Basic` header, or 401. */
export function authenticate(core: ProtocolCore, admin: AdminCore, header: string | undefined, peerHost: string): Principal {
  if (!header || !/^basic /i.test(header)) throw new HttpError(401, 'not_authorised', 'Login failed', REALM);
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpError(401, 'not_authorised', 'Login failed', REALM);
  const user = decoded.slice(0, colon);
  const result = core.login(user, decoded.slice(colon + 1), peerHost);
  if (!result.ok) throw new HttpError(401, 'not_authorised', 'Login failed', REALM);
  const tags = admin.getUser(user)?.tags ?? [];
  const isAdmin = tags.includes('administrator');
  const isMonitor = isAdmin || tags.includes('monitoring');
  const isPolicymaker = isAdmin || tags.includes('policymaker');
  if (!isMonitor && !isPolicymaker && !tags.includes('management')) throw notAuthorised('Not management user');
  return { user, tags, peerHost, isAdmin, isMonitor, isPolicymaker };
}

/** 401 unless the principal's tags give `need` (RabbitMQ's texts). */
export function requireCapability(p: Principal, need: Capability): void {
  if (need === 'administrator' && !p.isAdmin) throw notAuthorised('Not administrator user');
  if (need === 'monitoring' && !p.isMonitor) throw notAuthorised('Not monitor user');
  if (need === 'policymaker' && !p.isPolicymaker) throw notAuthorised('Not policymaker user');
}

/** Administrators and monitors see every vhost; others the vhosts they have permissions in. */
export function canSeeVhost(admin: AdminCore, p: Principal, vhost: string): boolean {
  return p.isMonitor || admin.hasPermissions(p.user, vhost);
}

/** 401 for a vhost the principal may not see (RabbitMQ: "User not authorised to access virtual host"). */
export function requireVhostAccess(admin: AdminCore, p: Principal, vhost: string): void {
  if (!admin.hasVhost(vhost)) throw new HttpError(404, 'Object Not Found', 'Not Found');
  if (!canSeeVhost(admin, p, vhost)) throw notAuthorised('User not authorised to access virtual host');
}

/** Monitors see every client connection; management users their own. */
export function canSeeConnection(p: Principal, c: ConnectionSnapshot): boolean {
  return p.isMonitor || c.user === p.user;
}
