/**
 * What every Kafka connection of the node shares: the core, the settings, the topic mapping,
 * the group coordinator and the listeners' connections.
 */
import type { ProtocolCore } from '../../src/core/index.js';
import type { Logger } from '../../src/log.js';
import type { KafkaConnection } from './connection.js';
import { GroupCoordinator } from './groups/coordinator.js';
import type { KafkaSettings } from './settings.js';
import { Topics } from './topics.js';
import { ProducerStates } from './producers.js';

/** Kafka's node id of this broker (one node; it leads every partition and coordinates every group). */
export const NODE_ID = 0;

export class KafkaBroker {
  readonly core: ProtocolCore;
  readonly settings: KafkaSettings;
  readonly log: Logger;
  readonly topics: Topics;
  readonly groups: GroupCoordinator;
  readonly producers = new ProducerStates();
  readonly connections = new Set<KafkaConnection>();
  /** a stable id for Metadata (Kafka's cluster id) */
  readonly clusterId = 'warren';
  #nextProducerId = Date.now() * 1000;
  readonly #unsubscribeAlarms: () => void;

  constructor(core: ProtocolCore, settings: KafkaSettings, log: Logger) {
    this.core = core;
    this.settings = settings;
    this.log = log;
    this.topics = new Topics(core, settings.vhost);
    this.groups = new GroupCoordinator(this);
    this.#unsubscribeAlarms = core.alarms.onChange(() => {
      if (core.alarms.blocked) return; // a connection holds at its next produce
      for (const c of this.connections) c.releaseHeld();
    });
  }

  authenticated(c: KafkaConnection): boolean {
    return c.user !== null || this.settings.allowAnonymous;
  }

  /** A producer id no earlier run handed out either (time-based, so a restart does not reuse one). */
  newProducerId(): number {
    this.#nextProducerId = Math.max(this.#nextProducerId + 1, Date.now() * 1000);
    return this.#nextProducerId;
  }

  /** The host and port a client of `c` should connect to (the address it reached, unless configured). */
  advertised(c: KafkaConnection): { host: string; port: number } {
    const host = this.settings.advertisedHost !== '' ? this.settings.advertisedHost : c.localHost.replace(/^::ffff:/, '');
    return { host, port: c.localPort };
  }

  connectionClosed(c: KafkaConnection): void {
    this.connections.delete(c);
  }

  stop(): void {
    this.#unsubscribeAlarms();
    this.groups.stop();
    for (const c of [...this.connections]) c.close();
  }
}
