/**
 * The objects a principal may see (see auth.ts), gathered once per request as snapshots:
 * vhosts, client connections (the API's own short-lived ones excluded).
 */
import type { ConnectionSnapshot, VhostSnapshot } from '../../src/core/index.js';
import { canSeeConnection, canSeeVhost, type Principal } from './auth.js';
import type { ManagementServices } from './services.js';
import { MANAGEMENT_PROTOCOL } from './user-session.js';

/** The names of the vhosts `p` may see, or just `only` when given (checked by the caller). */
export function visibleVhostNames(s: ManagementServices, p: Principal, only?: string): string[] {
  if (only !== undefined) return [only];
  return s.admin.vhostNames().filter((v) => canSeeVhost(s.admin, p, v));
}

export function visibleVhosts(s: ManagementServices, p: Principal): VhostSnapshot[] {
  return s.admin.listVhosts().filter((v) => canSeeVhost(s.admin, p, v.name));
}

export function visibleConnections(s: ManagementServices, p: Principal, vhost?: string): ConnectionSnapshot[] {
  const out: ConnectionSnapshot[] = [];
  for (const c of s.admin.listConnections()) {
    if (c.protocol === MANAGEMENT_PROTOCOL) continue;
    if (vhost !== undefined && c.vhost !== vhost) continue;
    if (canSeeConnection(p, c) && canSeeVhost(s.admin, p, c.vhost)) out.push(c);
  }
  return out;
}
