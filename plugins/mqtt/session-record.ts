/**
 * What a persistent session keeps across a restart beyond its durable queues and bindings
 * (session-recovery.ts rebuilds those): its shared and `$stream/` subscriptions, the packet
 * identifiers of its QoS 1/2 deliveries in flight, its QoS 2 flows waiting for PUBCOMP or
 * PUBREL, when its connection ended, and its user. One JSON record per session
 * (session-records.ts stores it):
 *
 *   { "v": 1, "user": "guest", "expiry": 3600, "disconnectedAt": 0,     0 = connected
 *     "subs": [{ "f": "$share/g/a/+", "q": 1, "i": 7 }],   i: subscription id; also nl, rap: 1
 *                                  when set, so: the x-stream-offset a $stream/ subscription asked for
 *     "inflight": [["mqtt-subscription-c1qos1", 42, 17]],   queue, seq (its place), packet id
 *     "pubrel": [18], "inq2": [5] }      outbound awaiting PUBCOMP, inbound awaiting PUBREL
 */
import { DurabilityPoints } from '../../src/core/index.js';
import type { QoS } from 'mqtt-packet';
import { deliveryKey, SessionState, Subscription } from './session-state.js';
import { parseStreamFilter } from './stream-filters.js';
import { sharedQueueName } from './subscriptions.js';
import { filterToBindingKey, parseSharedFilter } from './topics.js';

export interface SessionRecord {
  v: 1;
  user: string;
  expiry: number;
  disconnectedAt: number;
  subs: { f: string; q: number; i?: number; nl?: 1; rap?: 1; so?: string | number }[];
  inflight: [string, number, number][];
  pubrel: number[];
  inq2: number[];
}

const isInt = (v: unknown): v is number => Number.isInteger(v);
const isSub = (s: unknown): boolean => {
  const r = s as Record<string, unknown>;
  return typeof s === 'object' && s !== null && typeof r.f === 'string' && isInt(r.q) && (r.i === undefined || isInt(r.i)) && (r.so === undefined || typeof r.so === 'string' || isInt(r.so));
};
const isInflight = (e: unknown): boolean => Array.isArray(e) && e.length === 3 && typeof e[0] === 'string' && isInt(e[1]) && isInt(e[2]);

/**
 * A stored record read back (sessions.db may be damaged or written by another Warren): the
 * record, or null when its JSON or the shape of a field is not what `recordOf` writes.
 */
export function parseRecord(text: string): SessionRecord | null {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || r.v !== 1 || typeof r.user !== 'string' || !isInt(r.expiry) || !isInt(r.disconnectedAt)) return null;
  const ints = (a: unknown) => Array.isArray(a) && a.every(isInt);
  if (!Array.isArray(r.subs) || !r.subs.every(isSub) || !Array.isArray(r.inflight) || !r.inflight.every(isInflight) || !ints(r.pubrel) || !ints(r.inq2)) return null;
  return r as unknown as SessionRecord;
}

/** The record of a session: `inFlight` are its deliveries in flight (place → packet id). */
export function recordOf(state: SessionState, inFlight: Map<string, number> | null): SessionRecord {
  const subs: SessionRecord['subs'] = [];
  for (const s of state.subscriptions.values()) {
    if (s.shareGroup === null && s.stream === null) continue; // their bindings say it all
    const r: SessionRecord['subs'][number] = { f: s.filter, q: s.qos };
    if (s.identifier !== 0) r.i = s.identifier;
    if (s.noLocal) r.nl = 1;
    if (s.retainAsPublished) r.rap = 1;
    if (s.stream !== null && s.filter.startsWith('$stream/')) r.so = s.stream.offset;
    subs.push(r);
  }
  const inflight: [string, number, number][] = [];
  if (inFlight !== null) {
    for (const [key, id] of inFlight) {
      const nul = key.lastIndexOf('\u0000');
      inflight.push([key.slice(0, nul), Number(key.slice(nul + 1)), id]);
    }
  }
  return {
    v: 1,
    user: state.user,
    expiry: state.expirySeconds,
    disconnectedAt: state.disconnectedAt,
    subs,
    inflight,
    pubrel: state.hasPendingPubrel ? [...state.pendingPubrel] : [],
    inq2: state.hasAcceptedInboundQos2 ? [...state.acceptedInboundQos2] : [],
  };
}

/**
 * Put back into `state` what the record keeps. Subscriptions whose filter no longer parses are
 * left out (they were valid when granted; a newer Warren may read them differently).
 */
export function applyRecord(state: SessionState, record: SessionRecord, sparkplug: boolean, prefetch: number): void {
  for (const r of record.subs) {
    const sub = subscriptionOf(r, sparkplug, prefetch);
    if (sub !== null) state.subscriptions.set(sub.filter, sub);
  }
  if (record.inflight.length > 0) {
    const resend = (state.resendIds ??= new Map());
    for (const [queue, seq, id] of record.inflight) resend.set(deliveryKey(queue, seq), id);
  }
  for (const id of record.pubrel) state.pendingPubrel.add(id);
  for (const id of record.inq2) {
    // its PUBREC went out before the restart, so what it wrote is durable: no points to wait for
    state.pendingInboundQos2.set(id, new DurabilityPoints());
    state.acceptedInboundQos2.add(id);
  }
}

function subscriptionOf(r: SessionRecord['subs'][number], sparkplug: boolean, prefetch: number): Subscription | null {
  const qos = (r.q >= 0 && r.q <= 2 ? r.q : 0) as QoS;
  const stream = parseStreamFilter(r.f, r.so === undefined ? undefined : { 'x-stream-offset': String(r.so) });
  if (typeof stream === 'string') return null;
  let sub: Subscription;
  if (stream !== null) {
    sub = new Subscription(r.f, stream.topicFilter, null, filterToBindingKey(stream.topicFilter, sparkplug), qos, stream.stream);
    sub.stream = { stream: stream.stream, offset: stream.offset, prefetch };
  } else {
    const shared = parseSharedFilter(r.f);
    if (shared === null || typeof shared === 'string') return null;
    sub = new Subscription(r.f, shared.filter, shared.group, filterToBindingKey(shared.filter, sparkplug), qos, sharedQueueName(shared.group, shared.filter));
  }
  sub.identifier = r.i ?? 0;
  sub.noLocal = r.nl === 1;
  sub.retainAsPublished = r.rap === 1;
  return sub;
}
