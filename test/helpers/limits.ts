/**
 * Between limit tests: wait until the broker has seen every close (it sees them a little after
 * the client), then lift every limit a test may have set on the default vhost and guest.
 */
import type { Core } from '../../src/core/core.js';

export async function resetLimits(core: Core): Promise<void> {
  for (let i = 0; i < 500 && core.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  if (core.connections.size > 0) throw new Error(`${core.connections.size} connection(s) still open after the test`);
  core.limits.maxConnections = -1;
  core.limits.setVhostLimits('/', { maxConnections: -1, maxQueues: -1 });
  core.limits.setUserLimits('guest', { maxConnections: -1, maxChannels: -1 });
}
