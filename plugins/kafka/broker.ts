/**
 * What every Kafka connection of the node shares: the core, the settings, the topic mapping,
 * and the group coordinator.
 */
import type { ProtocolCore } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
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
  /** a stable id for Metadata (Kafka's cluster id) */
  readonly clusterId = 'warren';
  #nextProducerId = Date.now() * 1000;

  constructor(core: ProtocolCore, settings: KafkaSettings, log: Logger) {
    this.core = core;
    this.settings = settings;
    this.log = log;
    this.topics = new Topics(core, settings.vhost);
    this.groups = new GroupCoordinator(this);
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

  /** Before the listeners close the connections (listener.ts). */
  stop(): void {
    this.groups.stop();
  }
}
