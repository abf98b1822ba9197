/**
 * `$SYS/broker/...` topics as Mosquitto publishes them, so that existing dashboards find them:
 * version, uptime, clients, messages, bytes, publishes, retained messages, subscriptions, heap,
 * and the per-minute load averages (1, 5 and 15 minutes). Every `mqtt.sys_interval` the values
 * are worked out from the counters (stats.ts) and those that changed go, QoS 0, to the clients
 * subscribed to a matching `$SYS` filter; a new subscription gets the current values at once
 * with the retain flag set, as Mosquitto's retained `$SYS` messages arrive (Retain Handling
 * honoured). Like Mosquitto's, they are the plugin's own: not routed through the MQTT exchange
 * (AMQP and STOMP clients do not see them), and `#` or `+` at the root never match them
 * (MQTT-4.7.2-1). An interval of 0 publishes nothing.
 */
import type { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';
import { sendPlain, type PublishProperties } from './delivery.js';
import type { Subscription } from './session-state.js';
import { routingKeyWords, topicToRoutingKey } from './topics.js';

/** Load averages: per-minute rates smoothed over these periods (Mosquitto's 1min, 5min, 15min). */
const PERIODS: [string, number][] = [
  ['1min', 60],
  ['5min', 300],
  ['15min', 900],
];

/** The counters that get load averages, by their `$SYS/broker/load/<name>/` topic part. */
const LOADS: [string, (s: MqttContext['stats']) => number][] = [
  ['messages/received', (s) => s.packetsReceived],
  ['messages/sent', (s) => s.packetsSent],
  ['publish/received', (s) => s.publishReceived],
  ['publish/sent', (s) => s.publishSent],
  ['publish/dropped', (s) => s.publishDropped],
  ['bytes/received', (s) => s.bytesReceived],
  ['bytes/sent', (s) => s.bytesSent],
  ['sockets', (s) => s.socketsOpened],
  ['connections', (s) => s.connectsAccepted],
];

export const isSysFilter = (topicFilter: string): boolean => topicFilter === '$SYS' || topicFilter.startsWith('$SYS/');

export class SysTopics {
  readonly #ctx: MqttContext;
  readonly #version: string;
  readonly #startedAt = Date.now();
  /** the values last published, by topic */
  readonly #values = new Map<string, string>();
  /** connections with a `$SYS` subscription (checked again at each publication) */
  readonly #subscribers = new Set<MqttConnection>();
  readonly #loads = new Map<string, number>();
  #lastCounts: number[] = LOADS.map(() => 0);
  #lastTick = Date.now();
  #heapMaximum = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(ctx: MqttContext, version: string) {
    this.#ctx = ctx;
    this.#version = version;
  }

  start(): void {
    const ms = this.#ctx.settings.sysIntervalMs;
    if (ms <= 0) return;
    this.#refresh();
    this.#timer = setInterval(() => this.publish(), ms);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#subscribers.clear();
  }

  /** A `$SYS` subscription was made: its client gets the current values now (when `sendCurrent`) and the changes later. */
  subscribed(c: MqttConnection, sub: Subscription, sendCurrent: boolean): void {
    if (this.#timer === null) return;
    // values as they are now (what changed goes to the other subscribers as at an interval)
    this.#send(this.#refresh(), c);
    this.#subscribers.add(c);
    if (!sendCurrent) return;
    const words = new Map<string, string[]>();
    for (const [topic, value] of this.#values) {
      if (matches(sub, topic, words)) sendPlain(c, topic, Buffer.from(value), true, idsOf([sub]));
    }
  }

  /** A resumed session: its `$SYS` subscriptions get the changes from now on. */
  resumed(c: MqttConnection): void {
    if (this.#timer === null) return;
    for (const s of c.sessionState!.subscriptions.values()) {
      if (s.shareGroup === null && s.stream === null && isSysFilter(s.topicFilter)) {
        this.#subscribers.add(c);
        return;
      }
    }
  }

  /** Work the values out again and send those that changed to their subscribers. */
  publish(): void {
    this.#send(this.#refresh(), null);
  }

  #send(changed: string[], skip: MqttConnection | null): void {
    if (changed.length === 0 || this.#subscribers.size === 0) return;
    const words = new Map<string, string[]>();
    for (const c of this.#subscribers) {
      if (c === skip) continue;
      if (!c.open) {
        this.#subscribers.delete(c);
        continue;
      }
      const subs = [...c.sessionState!.subscriptions.values()].filter((s) => s.shareGroup === null && s.stream === null && isSysFilter(s.topicFilter));
      if (subs.length === 0) {
        this.#subscribers.delete(c);
        continue;
      }
      for (const topic of changed) {
        const matching = subs.filter((s) => matches(s, topic, words));
        // QoS 0, retain flag clear: a live subscription gets a published message as published (MQTT-3.3.1-9)
        if (matching.length > 0) sendPlain(c, topic, Buffer.from(this.#values.get(topic)!), false, idsOf(matching));
      }
    }
  }

  /** @returns the topics whose value changed */
  #refresh(): string[] {
    const ctx = this.#ctx;
    const stats = ctx.stats;
    const now = Date.now();
    const values: [string, string | number][] = [];
    const put = (topic: string, value: string | number) => values.push([`$SYS/broker/${topic}`, value]);
    put('version', `warren version ${this.#version}`);
    put('uptime', `${Math.floor((now - this.#startedAt) / 1000)} seconds`);
    const connected = ctx.clients.size;
    const disconnected = ctx.sessions.size;
    put('clients/connected', connected);
    put('clients/active', connected);
    put('clients/disconnected', disconnected);
    put('clients/inactive', disconnected);
    put('clients/total', connected + disconnected);
    put('clients/maximum', stats.clientsMaximum);
    put('clients/expired', stats.sessionsExpired);
    put('messages/received', stats.packetsReceived);
    put('messages/sent', stats.packetsSent);
    put('publish/messages/received', stats.publishReceived);
    put('publish/messages/sent', stats.publishSent);
    put('publish/messages/dropped', stats.publishDropped);
    put('bytes/received', stats.bytesReceived);
    put('bytes/sent', stats.bytesSent);
    put('retained messages/count', ctx.retained.total);
    put('subscriptions/count', stats.subscriptions);
    const heap = process.memoryUsage().heapUsed;
    if (heap > this.#heapMaximum) this.#heapMaximum = heap;
    put('heap/current', heap);
    put('heap/maximum', this.#heapMaximum);
    this.#updateLoads(now, put);

    const changed: string[] = [];
    for (const [topic, v] of values) {
      const text = String(v);
      if (this.#values.get(topic) === text) continue;
      this.#values.set(topic, text);
      changed.push(topic);
    }
    return changed;
  }

  /** Mosquitto's load: the per-minute rate over the last interval, smoothed exponentially over each period. */
  #updateLoads(now: number, put: (topic: string, value: string) => void): void {
    const seconds = (now - this.#lastTick) / 1000;
    const counts = LOADS.map(([, count]) => count(this.#ctx.stats));
    for (let i = 0; i < LOADS.length; i++) {
      const rate = seconds > 0 ? ((counts[i] - this.#lastCounts[i]) * 60) / seconds : 0;
      for (const [suffix, period] of PERIODS) {
        const topic = `load/${LOADS[i][0]}/${suffix}`;
        const previous = this.#loads.get(topic) ?? 0;
        const load = seconds > 0 ? rate + Math.exp(-seconds / period) * (previous - rate) : previous;
        this.#loads.set(topic, load);
        put(topic, load.toFixed(2));
      }
    }
    this.#lastCounts = counts;
    this.#lastTick = now;
  }
}

function matches(sub: Subscription, topic: string, cache: Map<string, string[]>): boolean {
  let words = cache.get(topic);
  if (words === undefined) cache.set(topic, (words = routingKeyWords(topicToRoutingKey(topic))));
  return !sub.matcher.wildcardRoot && sub.matcher.matches(words);
}

function idsOf(subs: Subscription[]): PublishProperties | undefined {
  const ids = subs.map((s) => s.identifier).filter((i) => i !== 0);
  return ids.length === 0 ? undefined : { subscriptionIdentifier: ids.length === 1 ? ids[0] : ids };
}
