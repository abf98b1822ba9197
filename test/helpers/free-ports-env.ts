/**
 * Environment for a spawned `warren start`: every built-in plugin's listener on an OS-chosen
 * loopback port (`WARREN_<SECTION>_<KEY>_PORT=0`, `…_HOST=127.0.0.1`), so the child never
 * fights over a fixed port with a parallel test or another broker on this machine. Read from
 * the plugins' own schemas, so a new plugin or listener is covered without a change here.
 */
import { envName } from '../../src/config/schema.js';
import { BUILTIN_PLUGINS } from '../../src/plugin-host/builtin.js';
import { loadManifests } from '../../src/plugin-host/host.js';

export async function freePortsEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const m of await loadManifests(BUILTIN_PLUGINS)) {
    for (const [key, spec] of Object.entries(m.configSchema)) {
      if (spec.type === 'integer' && (key === 'port' || key.endsWith('_port'))) env[envName(`${m.configSection}.${key}`)] = '0';
      if (spec.type === 'string' && key === 'host') env[envName(`${m.configSection}.${key}`)] = '127.0.0.1';
    }
  }
  return env;
}
