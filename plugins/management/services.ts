/**
 * What the routes share: the core (its protocol-facing and admin-facing interfaces), the settings, the rate sampler, the logger, and facts
 * about this node. One object per running plugin.
 */
import { hostname } from 'node:os';
import type { AdminCore, ProtocolCore } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import type { ClusterView, KafkaView, ListenerAddress } from '../../src/plugin-host/index.js';
import type { ManagementSettings } from './settings.js';
import type { Sampler } from './sampler.js';

export interface ManagementServices {
  /** for the API's own sessions of the requesting user (login, connect) */
  readonly core: ProtocolCore;
  /** snapshots of the broker's objects, and the operations operators perform */
  readonly admin: AdminCore;
  readonly settings: ManagementSettings;
  readonly sampler: Sampler;
  readonly log: Logger;
  /** Warren's version */
  readonly version: string;
  /** RabbitMQ-style node name: warren@<hostname> */
  readonly nodeName: string;
  readonly startedAt: number;
  /** where the management listener accepts connections (filled in once listening) */
  listener: { host: string; port: number } | null;
  /** the HTTPS listener (management.ssl_enabled), or null */
  sslListener: { host: string; port: number } | null;
  /** every listener of every running plugin (this one's included) */
  listeners(): ListenerAddress[];
  /** the Kafka plugin's topics and groups; null when it is not running */
  kafka(): KafkaView | null;
  /** this node's cluster status; null on a single node */
  cluster(): ClusterView | null;
}

export function nodeNameOf(): string {
  return `warren@${hostname()}`;
}
