/**
 * What every MQTT connection of the plugin shares: the core, the settings, the retained
 * messages, the parked sessions, pending wills and the live connection of each client id.
 */
import { join } from 'node:path';
import type { ProtocolCore, SessionHandler } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import type { MqttSettings } from './config.js';
import { MemoryRetainedStore, type RetainedStore } from './retained.js';
import { SqliteRetainedStore } from './retained-sqlite.js';
import { StreamRetainedStore } from './retained-stream.js';
import { SessionRecords } from './session-records.js';
import { MqttStats } from './stats.js';
import type { SysTopics } from './sys-topics.js';
import { MemorySessionStore, type SessionState, type SessionStore } from './session-state.js';
import { WillPublisher } from './will.js';

/** The part of a connection the registry needs: taking it over. */
export interface ClientConnection {
  takeOver(): void;
}

const IGNORE: SessionHandler = { deliver() {}, consumerCancelled() {}, returned() {}, confirmed() {} };

export class MqttContext {
  readonly core: ProtocolCore;
  readonly settings: MqttSettings;
  readonly log: Logger;
  readonly retained: RetainedStore;
  readonly sessions: SessionStore;
  readonly wills: WillPublisher;
  /** persistent sessions and delayed wills across a restart (session-records.ts); null without a data directory */
  readonly records: SessionRecords | null;
  /** broker-wide counters ($SYS topics) */
  readonly stats = new MqttStats();
  /** the $SYS/broker topics (set by the plugin once started) */
  sys: SysTopics | null = null;
  /** the connected client of each session key (vhost + client id) */
  readonly clients = new Map<string, ClientConnection>();

  constructor(core: ProtocolCore, settings: MqttSettings, log: Logger) {
    this.core = core;
    this.settings = settings;
    this.log = log;
    this.retained =
      settings.retainedStore === 'stream'
        ? new StreamRetainedStore(core, log, settings.exchange, settings.sparkplug) // a compacted stream (retained-stream.ts)
        : createRetainedStore(settings.retainedStore, core.dataDir, log, (vhost) => core.hasVhost(vhost), (db) => core.replicateDatabase(db, 'mqtt/retained.db'), (done) => core.afterMetadataReplicated(done));
    this.sessions = new MemorySessionStore((state) => this.sessionExpired(state));
    this.wills = new WillPublisher(core, this.retained, settings.exchange, settings.sparkplug, log);
    this.records = core.dataDir !== null ? new SessionRecords(join(core.dataDir, 'mqtt'), log, (db) => core.replicateDatabase(db, 'mqtt/sessions.db')) : null;
    this.wills.records = this.records;
  }

  /**
   * A parked session expired: delete its queues (their x-expires would too, but a connection
   * of the same session may have declared them with another expiry).
   */
  sessionExpired(state: SessionState): void {
    this.stats.sessionsExpired++;
    this.records?.forget(state.vhost, state.clientId);
    const queues = state.ownQueues();
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
    this.sys?.stop();
    this.wills.stop();
    this.sessions.close();
    this.retained.close();
    this.records?.close();
  }
}

/**
 * The backend `mqtt.retained_message_store` names. 'sqlite' keeps its file under the broker's
 * data directory; a core without one (everything in memory) gets the memory backend.
 */
export function createRetainedStore(
  kind: string,
  dataDir: string | null,
  log: Logger,
  keepVhost: (vhost: string) => boolean,
  replicate?: (db: Parameters<ProtocolCore['replicateDatabase']>[0]) => void,
  afterReplicated?: (done: (refusal: Error | null) => void) => void,
): RetainedStore {
  if (kind === 'memory') return new MemoryRetainedStore();
  if (kind === 'sqlite') {
    if (dataDir !== null) return new SqliteRetainedStore(join(dataDir, 'mqtt'), log, keepVhost, replicate, afterReplicated);
    log.warn('no data directory: retained messages are kept in memory only');
    return new MemoryRetainedStore();
  }
  throw new Error(`mqtt.retained_message_store: unknown store '${kind}' (available: sqlite, stream, memory)`);
}
