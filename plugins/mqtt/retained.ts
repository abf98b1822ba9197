/**
 * Retained messages (MQTT 3.1.1 §3.3.1.3, MQTT 5 §3.3.1.3): the last retained PUBLISH per
 * topic, per vhost, handed to every new matching subscription.
 *
 * Behind an interface with interchangeable backends, as RabbitMQ does
 * (`rabbit_mqtt_retained_msg_store` with ets/dets/noop): the memory backend here, the durable
 * one in retained-sqlite.ts (`mqtt.retained_message_store`, chosen in context.ts). The interface is synchronous
 * (better-sqlite3 is; the durable backend answers from memory anyway): callers never await.
 * Another durable backend, a compacted stream keyed by topic, would implement the same five
 * methods.
 */
import type { QoS } from 'mqtt-packet';
import type { DurabilityPoints } from '../../src/core/index.js';
import type { MqttPublish, PublishProperties } from './message.js';
import { hasWildcard, topicMatchesFilter } from './topics.js';

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  /** MQTT 5 properties as published, minus Topic Alias and Subscription Identifier */
  properties: PublishProperties | undefined;
  /** ms since the epoch */
  storedAt: number;
  /** ms since the epoch after which it is gone (Message Expiry Interval), 0 = never */
  expiresAt: number;
}

/**
 * A durable backend notes in `points` (when given) where its write becomes durable, so that the
 * PUBACK / PUBREC of a retained QoS ≥ 1 publish waits for it (publish-acks.ts); a write it could
 * not make sets `points.failure`. The memory backend notes nothing: it promises nothing.
 */
export interface RetainedStore {
  /** Keep `message` as the retained message of its topic, replacing any older one. */
  put(vhost: string, message: RetainedMessage, points: DurabilityPoints | null): void;
  /** Forget the retained message of a topic (a retained PUBLISH with an empty payload, MQTT-3.3.1-10). */
  delete(vhost: string, topic: string, points: DurabilityPoints | null): void;
  /** The unexpired retained messages whose topics match a filter (MQTT wildcards and '$' rules). */
  match(vhost: string, filter: string, now: number): RetainedMessage[];
  /** number of retained messages in a vhost (for operators and tests) */
  count(vhost: string): number;
  /** retained messages held now, every vhost together, without loading or declaring anything ($SYS) */
  readonly total: number;
  close(): void;
}

/** Retained messages in a map per vhost; wildcard lookups scan the vhost's topics. */
export class MemoryRetainedStore implements RetainedStore {
  readonly #byVhost = new Map<string, Map<string, RetainedMessage>>();

  put(vhost: string, message: RetainedMessage): void {
    let topics = this.#byVhost.get(vhost);
    if (!topics) this.#byVhost.set(vhost, (topics = new Map()));
    topics.set(message.topic, message);
  }

  delete(vhost: string, topic: string): void {
    this.#byVhost.get(vhost)?.delete(topic);
  }

  match(vhost: string, filter: string, now: number): RetainedMessage[] {
    const topics = this.#byVhost.get(vhost);
    if (!topics) return [];
    const out: RetainedMessage[] = [];
    if (!hasWildcard(filter)) {
      const m = topics.get(filter);
      if (m) this.#keepIfLive(topics, m, now, out);
      return out;
    }
    for (const m of topics.values()) if (topicMatchesFilter(filter, m.topic)) this.#keepIfLive(topics, m, now, out);
    return out;
  }

  count(vhost: string): number {
    return this.#byVhost.get(vhost)?.size ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const topics of this.#byVhost.values()) n += topics.size;
    return n;
  }

  close(): void {
    this.#byVhost.clear();
  }

  #keepIfLive(topics: Map<string, RetainedMessage>, m: RetainedMessage, now: number, out: RetainedMessage[]): void {
    // MQTT-3.3.2-5: an expired retained message is not delivered (and can go)
    if (m.expiresAt !== 0 && m.expiresAt <= now) topics.delete(m.topic);
    else out.push(m);
  }
}

/** A retained PUBLISH replaces its topic's retained message; an empty payload clears it (MQTT-3.3.1-10). */
export function retainPublish(store: RetainedStore, vhost: string, topic: string, p: MqttPublish, now: number, points: DurabilityPoints | null): void {
  if (p.payload.length === 0) {
    store.delete(vhost, topic, points);
    return;
  }
  const expiry = p.properties?.messageExpiryInterval;
  store.put(vhost, {
    topic,
    // a copy: the parsed payload may be a view of a whole socket read, kept for as long as the retained message
    payload: Buffer.from(p.payload),
    qos: p.qos,
    properties: p.properties,
    storedAt: now,
    expiresAt: expiry !== undefined ? now + expiry * 1000 : 0,
  }, points);
}
