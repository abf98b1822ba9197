/**
 * The narrow view a plugin gets of the broker: the core as its protocol-facing interface
 * (and as its admin-facing one to a plugin whose manifest asks), its own validated config
 * section, a logger that tags its lines with the plugin name, the broker's TLS settings and a
 * read-only list of the open listeners and the Kafka plugin's read-only view. Nothing else: a plugin
 * cannot reach the broker, the host or another plugin through it (STYLE.md §3 rule 7).
 */
import type { AdminCore } from '../core/admin-core.js';
import type { Core } from '../core/core.js';
import type { ProtocolCore } from '../core/protocol-core.js';
import type { Logger } from '../log/index.js';
import type { TlsListeners } from '../tls/tls-server.js';
import type { ClusterView } from './cluster-view.js';
import type { KafkaView } from './kafka-view.js';
import type { ListenerAddress, PluginConfig, PluginContext, PluginManifest } from './manifest.js';

export function createPluginContext(
  core: Core,
  manifest: PluginManifest,
  config: PluginConfig,
  log: Logger,
  tls: TlsListeners,
  listeners: () => ListenerAddress[] = () => [],
  kafka: () => KafkaView | null = () => null,
  cluster: ClusterView | null = null,
): PluginContext {
  // Frozen copies: a plugin mutating its config must not change what the host or a restart sees.
  return Object.freeze({
    core: core as ProtocolCore,
    admin: manifest.adminAccess === true ? (core as AdminCore) : null,
    config: Object.freeze({ ...config }),
    log: log.child({ plugin: manifest.name }),
    tls,
    listeners,
    kafka,
    cluster: () => cluster,
  });
}
