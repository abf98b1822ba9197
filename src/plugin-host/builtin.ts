/**
 * The plugins Warren ships with. Each entry imports its plugin module lazily, so a plugin's
 * code (and its dependencies) load only when the broker starts. The import paths are
 * literal so that both the tsc output (dist/src → dist/plugins) and vitest resolve them.
 * Order matters where dependencies do not decide it: plugins start in this order.
 */
import type { PluginManifest } from './manifest.js';

/** plugin name → loader of the module whose default export is its manifest */
export type PluginTable = Readonly<Record<string, () => Promise<{ default: PluginManifest }>>>;

export const BUILTIN_PLUGINS: PluginTable = {
  amqp: () => import('../../plugins/amqp/index.js'),
  mqtt: () => import('../../plugins/mqtt/index.js'),
  stomp: () => import('../../plugins/stomp/index.js'),
  kafka: () => import('../../plugins/kafka/index.js'),
  management: () => import('../../plugins/management/index.js'),
};
