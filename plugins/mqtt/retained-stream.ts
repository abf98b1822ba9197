/**
 * Retained messages as a key-compacted stream: per vhost, the stream queue
 * `mqtt-retained` (`x-stream-compaction: key`, keyed by the header `x-mqtt-topic`, the exact
 * MQTT topic) holds every retained PUBLISH as an ordinary message — routing key the topic in
 * AMQP form, properties converted as for any MQTT publish — and an empty-body tombstone for
 * each cleared topic. Key compaction keeps the newest per topic, so the stream *is* the
 * current retained state, which AMQP and STOMP clients can read (x-stream-offset: first; the
 * last message per `x-mqtt-topic` wins, an empty body means cleared) and replay, beside MQTT.
 *
 * Lookups are answered from memory (the same map as the memory backend), loaded from the
 * stream the first time a vhost is used — a synchronous scan of a compacted log, done once —
 * so SUBSCRIBE never waits for the disk. Writes append to the stream, group-committed like any
 * stream append; the append's offset is the write's durability point, so the PUBACK / PUBREC
 * of a retained QoS ≥ 1 publish goes out only once the stream's fdatasync covered it.
 * Without a data directory the core has no streams: that vhost falls back to memory (and its
 * retained messages do not survive a restart).
 */
import type { QoS } from 'mqtt-packet';
import type { FieldTable } from '../../src/codec/index.js';
import { type BrokerStream, type ProtocolCore, type DurabilityPoints, isBrokerError, Message } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { publishedQos, publishPropertiesOf, toCoreMessage, type PublishProperties } from './message.js';
import { MemoryRetainedStore, type RetainedMessage, type RetainedStore } from './retained.js';
import { topicToRoutingKey } from './topics.js';

export const RETAINED_STREAM = 'mqtt-retained';
/** the compaction key: the exact MQTT topic (a/b and a.b are different retained topics) */
export const HEADER_TOPIC = 'x-mqtt-topic';
/** when a retained message with a Message Expiry Interval lapses (ms since the epoch) */
export const HEADER_EXPIRES_AT = 'x-mqtt-expires-at';

const STREAM_ARGUMENTS = {
  'x-queue-type': 'stream',
  'x-stream-compaction': 'key',
  'x-stream-compaction-key-header': HEADER_TOPIC,
  'x-stream-max-segment-size-bytes': 8 * 1024 * 1024,
};

export class StreamRetainedStore implements RetainedStore {
  readonly #core: ProtocolCore;
  readonly #log: Logger;
  readonly #exchange: string;
  readonly #sparkplug: boolean;
  readonly #memory = new MemoryRetainedStore();
  /** vhost → its stream, or null when it has none (no store): memory only */
  readonly #streams = new Map<string, BrokerStream | null>();

  constructor(core: ProtocolCore, log: Logger, exchange: string, sparkplug: boolean) {
    this.#core = core;
    this.#log = log;
    this.#exchange = exchange;
    this.#sparkplug = sparkplug;
  }

  put(vhost: string, m: RetainedMessage, points: DurabilityPoints | null): void {
    const stream = this.#streamOf(vhost);
    this.#memory.put(vhost, m);
    if (!stream) return;
    const base = toCoreMessage(this.#exchange, { routingKey: topicToRoutingKey(m.topic, this.#sparkplug), qos: m.qos, retain: true, dup: false, payload: m.payload, properties: m.properties }, this.#sparkplug);
    const headers: FieldTable = { ...base.properties.headers, [HEADER_TOPIC]: m.topic };
    if (m.expiresAt !== 0) headers[HEADER_EXPIRES_AT] = m.expiresAt;
    stream.append(new Message(base.exchange, base.routingKey, { ...base.properties, headers }, base.body, null, m.storedAt), points);
  }

  delete(vhost: string, topic: string, points: DurabilityPoints | null): void {
    const stream = this.#streamOf(vhost);
    this.#memory.delete(vhost, topic);
    if (!stream) return;
    // a tombstone: compaction drops the topic's older values now and the tombstone after its grace period
    stream.append(new Message(this.#exchange, topicToRoutingKey(topic, this.#sparkplug), { deliveryMode: 2, headers: { [HEADER_TOPIC]: topic } }, Buffer.alloc(0)), points);
  }

  match(vhost: string, filter: string, now: number): RetainedMessage[] {
    this.#streamOf(vhost);
    return this.#memory.match(vhost, filter, now);
  }

  count(vhost: string): number {
    this.#streamOf(vhost);
    return this.#memory.count(vhost);
  }

  /** of the vhosts whose stream is loaded (a vhost's is loaded when MQTT first uses it there) */
  get total(): number {
    return this.#memory.total;
  }

  close(): void {
    this.#memory.close();
    this.#streams.clear();
  }

  /** The vhost's retained stream, declared and loaded into memory on first use. */
  #streamOf(vhost: string): BrokerStream | null {
    const known = this.#streams.get(vhost);
    if (known !== undefined) return known;
    let stream: BrokerStream | null = null;
    if (this.#core.hasVhost(vhost)) {
      try {
        stream = this.#core.brokerStream(vhost, RETAINED_STREAM, STREAM_ARGUMENTS);
        this.#load(vhost, stream);
      } catch (e) {
        if (!isBrokerError(e)) throw e;
        this.#log.warn('retained messages kept in memory only', { vhost, reason: e.message });
        stream = null;
      }
    }
    this.#streams.set(vhost, stream);
    return stream;
  }

  /** Replay the stream in offset order into memory: the last value per topic wins, a tombstone clears. */
  #load(vhost: string, stream: BrokerStream): void {
    let n = 0;
    stream.readFromStart((m) => {
      const topic = m.properties.headers?.[HEADER_TOPIC];
      if (typeof topic !== 'string') return;
      n++;
      if (m.body.length === 0) {
        this.#memory.delete(vhost, topic);
        return;
      }
      // a copy: the record's view would keep the whole read buffer alive
      this.#memory.put(vhost, retainedOf(m, topic, Buffer.from(m.body), this.#sparkplug));
    });
    if (n > 0) this.#log.info('retained messages loaded from their stream', { vhost, records: n, retained: this.#memory.count(vhost) });
  }
}

function retainedOf(m: Message, topic: string, payload: Buffer, sparkplug: boolean): RetainedMessage {
  const expiresAt = m.properties.headers?.[HEADER_EXPIRES_AT];
  let properties: PublishProperties | undefined = publishPropertiesOf(m, sparkplug);
  if (properties?.userProperties && 'x-stream-offset' in properties.userProperties) {
    // the offset is the stream's, not the publisher's
    const { 'x-stream-offset': _offset, ...user } = properties.userProperties;
    properties = { ...properties, userProperties: user };
    if (Object.keys(user).length === 0) delete properties.userProperties;
    if (Object.keys(properties).length === 0) properties = undefined;
  }
  return {
    topic,
    payload,
    qos: publishedQos(m) as QoS,
    properties,
    storedAt: m.publishedAt,
    expiresAt: typeof expiresAt === 'number' ? expiresAt : 0,
  };
}
