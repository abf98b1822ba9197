/**
 * What a protocol front-end (or any other plugin) is, seen from the plugin host.
 *
 * A plugin module's default export is a `PluginManifest`. The host validates the plugin's
 * config section with the manifest's schema, starts enabled plugins in dependency order and
 * stops them in reverse. A plugin sees only its `PluginContext`: the core's protocol-facing
 * interface (and its admin-facing one when the manifest asks for it), its own
 * config section, a child logger, the broker's TLS settings, the listeners open and read-only views
 * other plugins offer (the Kafka plugin's topics and groups). It never reaches into the broker or into another plugin.
 */
import type { Duplex } from 'node:stream';
import type { AdminCore } from '../core/admin-core.js';
import type { ProtocolCore } from '../core/protocol-core.js';
import type { PeerInfo } from '../frontend/peer.js';
import type { Logger } from '../log/index.js';
import type { TlsListeners } from '../tls/tls-server.js';
import type { ClusterView } from './cluster-view.js';
import type { KafkaView } from './kafka-view.js';

/** One configurable key of a plugin's section (`<section>.<key> = value` in warren.conf). */
export interface ConfigKey {
  type: 'integer' | 'string' | 'boolean' | 'duration';
  default: number | string | boolean;
  /** one line, written above the key in conf/warren.conf */
  doc: string;
  min?: number;
  max?: number;
  /** environment variable that sets it (e.g. WARREN_AMQP_PORT) */
  env?: string;
}

export type PluginConfig = Record<string, number | string | boolean>;

export interface PluginContext {
  /** what a protocol front-end uses: login, connections and sessions, alarms, limits, streams */
  readonly core: ProtocolCore;
  /** snapshots and operator operations; null unless the manifest says `adminAccess` */
  readonly admin: AdminCore | null;
  /** this plugin's validated config section, defaults filled in */
  readonly config: PluginConfig;
  readonly log: Logger;
  /** TLS servers from the broker-wide `ssl_options`, and the verified client certificate's login name */
  readonly tls: TlsListeners;
  /** every listener of every running plugin, this one's included (management lists them all, as RabbitMQ's overview does) */
  listeners(): ListenerAddress[];
  /** the Kafka plugin's topics and groups, read-only; null when that plugin is not running */
  kafka(): KafkaView | null;
  /** this node's cluster status (nodes, leader, epoch, ISR, follower lag); null on a single node */
  cluster(): ClusterView | null;
}

/** A listening endpoint a plugin opened, reported to the host (for logs, tests, management). */
export interface ListenerAddress {
  /** e.g. 'amqp', 'mqtt-ws' */
  name: string;
  host: string;
  port: number;
}

export interface RunningPlugin {
  addresses(): ListenerAddress[];
  /** what the Kafka plugin offers other plugins through PluginContext.kafka() */
  kafka?: KafkaView;
  /**
   * A protocol front-end: serve a client on any byte stream (an in-memory pair in tests), as
   * if it had connected to a listener.
   */
  accept?(stream: Duplex, peer?: PeerInfo): void;
  /**
   * Stop accepting connections and close the existing ones; `reason` is what clients are
   * told (AMQP connection.close 320 CONNECTION_FORCED with this text).
   */
  stop(reason: string): Promise<void>;
}

export interface PluginManifest {
  name: string;
  version: string;
  /** the config section, usually the plugin name */
  configSection: string;
  configSchema: Record<string, ConfigKey>;
  dependsOn?: string[];
  /** enabled unless the config says otherwise */
  enabledByDefault: boolean;
  /** the plugin serves operators (management): it gets `PluginContext.admin` */
  adminAccess?: boolean;
  start(ctx: PluginContext): Promise<RunningPlugin>;
}
