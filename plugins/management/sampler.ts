/**
 * Message rates, as RabbitMQ's management plugin shows them (`publish_details.rate` …):
 * the core keeps plain counters per queue (no work on the hot path); every sample interval
 * this reads them, and a rate is the difference between two samples over the time between.
 * Totals for a vhost and the node add the differences up, so they keep counting what
 * deleted queues did while they existed. Queues are read as snapshots (AdminCore) and known
 * by their snapshot id: a deleted queue's sample is dropped at the next sample.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AdminCore, QueueSnapshot } from '../../src/core/index.js';
import { ObjectRates } from './object-rates.js';

/** The counters a rate is kept for, with their names in RabbitMQ's message_stats. */
export const RATE_KEYS = ['publish', 'deliver_get', 'ack', 'redeliver', 'expire', 'dead_letter', 'drop'] as const;
export type RateKey = (typeof RATE_KEYS)[number];
export type Counters = Record<RateKey, number>;

/** Depths whose change per second RabbitMQ also shows (`messages_details.rate` …). */
export const DEPTH_KEYS = ['messages', 'messages_ready', 'messages_unacknowledged'] as const;
export type DepthKey = (typeof DEPTH_KEYS)[number];

export interface QueueSample {
  at: number;
  counters: Counters;
  depths: Record<DepthKey, number>;
  rates: Counters;
  depthRates: Record<DepthKey, number>;
}

export interface Totals {
  counters: Counters;
  rates: Counters;
}

/** One point of the node's history (the UI's charts start with these). */
export interface HistoryPoint {
  at: number;
  rates: Counters;
  depths: Record<DepthKey, number>;
}

export interface LoopLag {
  meanSeconds: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
}

const HISTORY = 120;

export const zeroCounters = (): Counters => ({ publish: 0, deliver_get: 0, ack: 0, redeliver: 0, expire: 0, dead_letter: 0, drop: 0 });
const zeroDepths = (): Record<DepthKey, number> => ({ messages: 0, messages_ready: 0, messages_unacknowledged: 0 });

/** A queue's counters as they are now (the core keeps them; reading costs nothing). */
export function countersOf(q: QueueSnapshot): Counters {
  const s = q.counters;
  return {
    publish: s.published,
    deliver_get: s.delivered,
    ack: s.acked,
    redeliver: s.redelivered,
    expire: s.expired,
    dead_letter: s.deadLettered,
    drop: s.dropped,
  };
}

export function depthsOf(q: QueueSnapshot): Record<DepthKey, number> {
  return { messages: q.messagesReady + q.messagesUnacknowledged, messages_ready: q.messagesReady, messages_unacknowledged: q.messagesUnacknowledged };
}

export class Sampler {
  readonly #admin: AdminCore;
  readonly #intervalMs: number;
  /** by queue snapshot id */
  #queues = new Map<number, QueueSample>();
  readonly #vhosts = new Map<string, Totals>();
  readonly node: Totals = { counters: zeroCounters(), rates: zeroCounters() };
  nodeDepthRates = zeroDepths();
  #lastDepths = zeroDepths();
  readonly history: HistoryPoint[] = [];
  #timer: NodeJS.Timeout | null = null;
  #last = 0;
  readonly #lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  lag: LoopLag = { meanSeconds: 0, p50Seconds: 0, p99Seconds: 0, maxSeconds: 0 };
  /** exchanges', channels' and connections' rates */
  readonly objects = new ObjectRates();

  constructor(admin: AdminCore, intervalMs: number) {
    this.#admin = admin;
    this.#intervalMs = intervalMs;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  start(): void {
    this.#lag.enable();
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#lag.disable();
  }

  /** The last sample of a queue (zero rates before its second sample). */
  queue(q: QueueSnapshot): QueueSample {
    return this.#queues.get(q.id) ?? { at: 0, counters: countersOf(q), depths: depthsOf(q), rates: zeroCounters(), depthRates: zeroDepths() };
  }

  vhost(name: string): Totals {
    return this.#vhosts.get(name) ?? { counters: zeroCounters(), rates: zeroCounters() };
  }

  /** Read every queue's counters now. */
  sample(): void {
    const now = Date.now();
    const seconds = this.#last === 0 ? 0 : (now - this.#last) / 1000;
    this.#last = now;
    const nodeDelta = zeroCounters();
    const nodeDepths = zeroDepths();
    const queues = new Map<number, QueueSample>();
    const vhosts = this.#admin.vhostNames();
    for (const name of vhosts) {
      let totals = this.#vhosts.get(name);
      if (!totals) this.#vhosts.set(name, (totals = { counters: zeroCounters(), rates: zeroCounters() }));
      const delta = zeroCounters();
      for (const q of this.#admin.listQueues(name)) {
        const counters = countersOf(q);
        const depths = depthsOf(q);
        const prev = this.#queues.get(q.id);
        const rates = zeroCounters();
        const depthRates = zeroDepths();
        for (const k of RATE_KEYS) {
          // a queue new since the last sample did all its counting (and filling) in between
          const d = counters[k] - (prev?.counters[k] ?? 0);
          delta[k] += d;
          if (seconds > 0) rates[k] = d / seconds;
        }
        for (const k of DEPTH_KEYS) {
          nodeDepths[k] += depths[k];
          if (seconds > 0) depthRates[k] = (depths[k] - (prev?.depths[k] ?? 0)) / seconds;
        }
        queues.set(q.id, { at: now, counters, depths, rates, depthRates });
      }
      for (const k of RATE_KEYS) {
        totals.counters[k] += delta[k];
        totals.rates[k] = seconds > 0 ? delta[k] / seconds : 0;
        nodeDelta[k] += delta[k];
      }
    }
    // only the queues that still exist keep a sample
    this.#queues = queues;
    for (const name of this.#vhosts.keys()) if (!vhosts.includes(name)) this.#vhosts.delete(name);
    this.objects.sample(this.#admin, seconds);
    for (const k of RATE_KEYS) {
      this.node.counters[k] += nodeDelta[k];
      this.node.rates[k] = seconds > 0 ? nodeDelta[k] / seconds : 0;
    }
    for (const k of DEPTH_KEYS) this.nodeDepthRates[k] = seconds > 0 ? (nodeDepths[k] - this.#lastDepths[k]) / seconds : 0;
    this.#lastDepths = nodeDepths;
    this.history.push({ at: now, rates: { ...this.node.rates }, depths: nodeDepths });
    if (this.history.length > HISTORY) this.history.shift();
    const h = this.#lag;
    // the histogram is in nanoseconds; it restarts each interval so the figures are recent
    if (h.count > 0) {
      this.lag = { meanSeconds: h.mean / 1e9, p50Seconds: h.percentile(50) / 1e9, p99Seconds: h.percentile(99) / 1e9, maxSeconds: h.max / 1e9 };
    }
    h.reset();
  }
}
