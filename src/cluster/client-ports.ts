/**
 * The client listeners a node is configured with, by config key ('amqp.port',
 * 'mqtt.ws_port' …): what a standby forwards and what a node registers in etcd so that the
 * others know where to forward to. Read from the resolved configuration, because a standby
 * starts no plugin. A port key counts when its plugin is enabled and its `<x>_enabled`
 * switch (ws_enabled …; `tcp_enabled` for the plain `port`) is not false. TLS listeners
 * (ssl_port, wss_port) count when their switch (ssl_enabled, wss_enabled: off by default) is
 * on: a standby forwards their bytes unopened, the leader terminates TLS (docs/clustering.md).
 */
import type { ResolvedConfig } from '../config/load.js';
import type { PluginManifest } from '../plugin-host/manifest.js';
import type { ClientPort } from './proxy/standby-proxy.js';

const PORT_KEY = /^(?:([a-z0-9]+)_)?port$/;
const TLS_KINDS = new Set(['ssl', 'wss']);

export function clientPorts(config: ResolvedConfig, manifests: readonly PluginManifest[]): ClientPort[] {
  const sections = new Map(manifests.map((m) => [m.name, m.configSection]));
  const out: ClientPort[] = [];
  for (const [name, plugin] of config.plugins) {
    if (!plugin.enabled) continue;
    const section = sections.get(name) ?? name;
    for (const [key, value] of Object.entries(plugin.config)) {
      const m = PORT_KEY.exec(key);
      if (!m || typeof value !== 'number') continue;
      const kind = m[1] ?? 'tcp';
      const enabled = plugin.config[`${kind}_enabled`];
      if (TLS_KINDS.has(kind) ? enabled !== true : enabled === false) continue;
      const host = typeof plugin.config.host === 'string' ? plugin.config.host : '::';
      out.push({ key: `${section}.${key}`, host, port: value });
    }
  }
  return out;
}
