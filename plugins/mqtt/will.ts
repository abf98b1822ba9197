/**
 * Will messages (MQTT 3.1.1 §3.1.2.5, MQTT 5 §3.1.2.5 and §3.1.3.2.2): published when a
 * connection ends without a normal DISCONNECT; in MQTT 5 after the Will Delay Interval, or
 * when the session ends if that is sooner, and not at all if the client reconnects to the
 * session first (MQTT-3.1.3-9).
 *
 * A will is published from a short-lived core connection of the client's user, so it passes
 * the same permission checks as the client's own publishes, even after its connection is gone.
 * A will waiting out its delay is kept in the session records (session-records.ts), so a
 * restart — a clean stop or a killed process — schedules it again for what is left of its delay.
 */
import type { ProtocolCore, SessionHandler } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { toCoreMessage, type MqttPublish } from './message.js';
import { retainPublish, type RetainedStore } from './retained.js';
import { decodeProperties, encodeProperties } from './retained-sqlite.js';
import type { SessionRecords, StoredWill } from './session-records.js';

export interface Will {
  vhost: string;
  user: string;
  clientId: string;
  topic: string;
  publish: MqttPublish;
  /** Will Delay Interval in seconds (MQTT 5), 0 = at once */
  delaySeconds: number;
}

/** Wills publish through a session nobody consumes on: the handler ignores everything. */
const IGNORE: SessionHandler = {
  deliver() {},
  consumerCancelled() {},
  returned() {},
  confirmed() {},
};

export class WillPublisher {
  readonly #delayed = new Map<string, { will: Will; timer: NodeJS.Timeout }>();
  /** where delayed wills are kept across a restart; null without a data directory */
  records: SessionRecords | null = null;

  constructor(
    readonly core: ProtocolCore,
    readonly retained: RetainedStore,
    readonly exchange: string,
    readonly sparkplug: boolean,
    readonly log: Logger,
  ) {}

  /** The connection of session `key` ended abnormally: publish its will now or after its delay. */
  schedule(key: string, will: Will, sessionEndsInSeconds: number): void {
    this.cancel(key);
    const delay = Math.min(will.delaySeconds, sessionEndsInSeconds);
    if (delay <= 0) {
      this.publish(will);
      return;
    }
    const dueAt = Date.now() + delay * 1000;
    this.records?.saveWill(will.vhost, will.clientId, storedWill(will, dueAt));
    this.#arm(key, will, dueAt);
  }

  /** A will a previous run kept (session-records.ts): due at `dueAt`, at once when that has passed. */
  restore(key: string, vhost: string, clientId: string, stored: StoredWill): void {
    const will: Will = {
      vhost,
      user: stored.user,
      clientId,
      topic: stored.topic,
      delaySeconds: stored.delaySeconds,
      publish: {
        routingKey: stored.routingKey,
        qos: (stored.qos >= 0 && stored.qos <= 2 ? stored.qos : 0) as Will['publish']['qos'],
        retain: stored.retain,
        dup: false,
        payload: Buffer.from(stored.payload, 'base64'),
        properties: decodeProperties(stored.properties),
      },
    };
    if (stored.dueAt <= Date.now()) {
      this.records?.forgetWill(vhost, clientId);
      this.publish(will);
    } else {
      this.#arm(key, will, stored.dueAt);
    }
  }

  #arm(key: string, will: Will, dueAt: number): void {
    const timer = setTimeout(() => {
      if (this.#delayed.get(key)?.will !== will) return;
      this.#delayed.delete(key);
      this.records?.forgetWill(will.vhost, will.clientId);
      this.publish(will);
    }, Math.min(Math.max(0, dueAt - Date.now()), 2 ** 31 - 1));
    timer.unref();
    this.#delayed.set(key, { will, timer });
  }

  /** A new connection took the session over before the delay passed: no will (MQTT-3.1.3-9). */
  cancel(key: string): boolean {
    const entry = this.#delayed.get(key);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.#delayed.delete(key);
    this.records?.forgetWill(entry.will.vhost, entry.will.clientId);
    return true;
  }

  /** The session ended before the delay passed (a clean start took it over): publish now. */
  publishNow(key: string): void {
    const entry = this.#delayed.get(key);
    if (!entry) return;
    this.cancel(key);
    this.publish(entry.will);
  }

  get pending(): number {
    return this.#delayed.size;
  }

  stop(): void {
    for (const e of this.#delayed.values()) clearTimeout(e.timer);
    this.#delayed.clear();
  }

  publish(will: Will): void {
    const p = will.publish;
    let connection;
    try {
      connection = this.core.connect({ protocol: 'mqtt-will', vhost: will.vhost, user: will.user, peerHost: '', peerPort: 0, name: will.clientId });
      connection.openSession(IGNORE).publish(toCoreMessage(this.exchange, p, this.sparkplug), false);
    } catch (e) {
      this.log.warn('will message not published', { client: will.clientId, vhost: will.vhost, error: (e as Error).message });
      return;
    } finally {
      connection?.close();
    }
    if (p.retain) retainPublish(this.retained, will.vhost, will.topic, p, Date.now(), null);
  }
}

function storedWill(will: Will, dueAt: number): StoredWill {
  const p = will.publish;
  return {
    user: will.user,
    topic: will.topic,
    routingKey: p.routingKey,
    qos: p.qos,
    retain: p.retain,
    payload: p.payload.toString('base64'),
    properties: encodeProperties(p.properties),
    delaySeconds: will.delaySeconds,
    dueAt,
  };
}
