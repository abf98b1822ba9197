/**
 * What every MQTT connection of the plugin shares: the core, the settings, the retained
 * messages, the parked sessions, pending wills and the live connection of each client id.
 */
import type { Core } from '../../src/core/core.js';
import type { SessionHandler } from '../../src/core/api.js';
import type { Logger } from '../../src/log.js';
import type { MqttSettings } from './config.js';
import { createRetainedStore, type RetainedStore } from './retained.js';
import { MemorySessionStore, type SessionState, type SessionStore } from './session-state.js';
import { WillPublisher } from './will.js';

/** The part of a connection the registry needs: taking it over. */
export interface ClientConnection {
  takeOver(): void;
}

const IGNORE: SessionHandler = { deliver() {}, consumerCancelled() {}, returned() {}, confirmed() {} };

export class MqttContext {
  readonly core: Core;
  readonly settings: MqttSettings;
  readonly log: Logger;
  readonly retained: RetainedStore;
  readonly sessions: SessionStore;
  readonly wills: WillPublisher;
  /** the connected client of each session key (vhost + client id) */
  readonly clients = new Map<string, ClientConnection>();

  constructor(core: Core, settings: MqttSettings, log: Logger) {
    this.core = core;
    this.settings = settings;
    this.log = log;
    this.retained = createRetainedStore(settings.retainedStore);
    this.sessions = new MemorySessionStore((state) => this.sessionExpired(state));
    this.wills = new WillPublisher(core, this.retained, settings.exchange, settings.sparkplug, log);
  }

  /**
   * A parked session expired: delete its queues (their x-expires would too, but it is capped
   * by what a timer can hold, and a restart should find nothing left over).
   */
  sessionExpired(state: SessionState): void {
    const queues = new Set<string>();
    for (const s of state.subscriptions.values()) if (s.shareGroup === null) queues.add(s.queue);
    if (queues.size === 0 || !this.core.hasVhost(state.vhost)) return;
    let connection;
    try {
      connection = this.core.connect({ protocol: 'mqtt-expiry', vhost: state.vhost, user: state.user, peerHost: '', peerPort: 0, name: state.clientId });
      const session = connection.openSession(IGNORE);
      for (const q of queues) session.deleteQueue(q, false, false);
    } catch (e) {
      this.log.warn('queues of an expired MQTT session not deleted', { client: state.clientId, error: (e as Error).message });
    } finally {
      connection?.close();
    }
  }

  close(): void {
    this.wills.stop();
    this.sessions.close();
    this.retained.close();
  }
}
