/**
 * An embedded broker's listeners: every port key of a plugin section (`port`, `ws_port`,
 * `ssl_port` …) that no configuration layer set is moved to 0, so the OS picks a free port.
 *
 * Why: a library broker runs beside other software on the same machine (a RabbitMQ, a
 * second embedded broker in a parallel test worker). A listener it opens on a fixed default
 * port it was not asked for (MQTT's WebSocket on 15675 because the caller asked for MQTT on
 * port 0) fails the whole start with EADDRINUSE. `warren start` keeps the defaults: a server
 * is where the fixed, documented ports belong. Enabled-ness is not touched here: a listener
 * that is off stays off; one that is on by default (MQTT and STOMP WebSocket) opens on a
 * free port and `broker.address('mqtt-ws')` tells where.
 */
import type { PluginManifest } from '../plugin-host/manifest.js';
import type { ResolvedConfig } from './load.js';

const PORT_KEY = /^(?:[a-z0-9]+_)*port$/;

/** The source recorded for a port moved to 0 (shown by `broker.config.settings`). */
export const UNNAMED_PORT_SOURCE = 'default for an embedded broker (any free port)';

/**
 * Move each plugin port whose value is the schema default (no layer named it) to 0,
 * in the plugin sections and in `settings`. @returns the keys moved
 */
export function unnamedPortsToAnyFree(config: ResolvedConfig, manifests: readonly PluginManifest[]): string[] {
  const moved: string[] = [];
  for (const m of manifests) {
    const p = config.plugins.get(m.name);
    if (!p) continue;
    for (const key of Object.keys(p.config)) {
      if (!PORT_KEY.test(key) || typeof p.config[key] !== 'number') continue;
      const full = `${m.configSection}.${key}`;
      const setting = config.settings.get(full);
      if (!setting || setting.source !== 'default' || p.config[key] === 0) continue;
      p.config[key] = 0;
      config.settings.set(full, { value: 0, source: UNNAMED_PORT_SOURCE });
      moved.push(full);
    }
  }
  return moved;
}
