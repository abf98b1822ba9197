/**
 * The objects a principal may see (see auth.ts), gathered once per request: vhosts, client
 * connections (the API's own short-lived ones excluded), their channels, and consumers.
 */
import type { Connection } from '../../src/core/connection.js';
import type { VHost } from '../../src/core/vhost.js';
import { canSeeConnection, canSeeVhost, type Principal } from './auth.js';
import type { ManagementServices } from './services.js';
import { MANAGEMENT_PROTOCOL } from './user-session.js';

export function visibleVhosts(s: ManagementServices, p: Principal): VHost[] {
  return [...s.core.vhosts.values()].filter((v) => canSeeVhost(s.core, p, v.name));
}

export function visibleConnections(s: ManagementServices, p: Principal, vhost?: string): Connection[] {
  const out: Connection[] = [];
  for (const c of s.core.connections.values()) {
    if (c.info.protocol === MANAGEMENT_PROTOCOL || c.closed) continue;
    if (vhost !== undefined && c.info.vhost !== vhost) continue;
    if (canSeeConnection(p, c) && canSeeVhost(s.core, p, c.info.vhost)) out.push(c);
  }
  return out;
}
