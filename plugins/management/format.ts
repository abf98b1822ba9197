/**
 * The JSON shapes of the objects the API lists, with RabbitMQ's field names (checked
 * against RabbitMQ 3.10's /api responses): queues, exchanges, bindings, connections,
 * channels, consumers. Fields whose numbers Warren does not keep (Erlang process figures)
 * are left out rather than faked.
 */
import type { Binding } from '../../src/core/binding.js';
import type { Connection } from '../../src/core/connection.js';
import type { Consumer } from '../../src/core/delivery/consumer.js';
import type { Exchange } from '../../src/core/exchange.js';
import type { Queue } from '../../src/core/queues/queue.js';
import { CoreSession } from '../../src/core/session.js';
import { StreamQueue } from '../../src/core/queues/stream-queue.js';
import { QuorumQueue } from '../../src/core/queues/quorum-queue.js';
import type { VHost } from '../../src/core/vhost.js';
import { fieldTableToJson, fieldValueToJson } from '../../src/definitions/index.js';
import { DEPTH_KEYS, RATE_KEYS, type Counters, type DepthKey } from './sampler.js';
import type { ManagementServices } from './services.js';

type Obj = Record<string, unknown>;

/** `{publish: n, publish_details: {rate}, …}` */
export function messageStats(counters: Counters, rates: Counters): Obj {
  const out: Obj = {};
  for (const k of RATE_KEYS) {
    out[k] = counters[k];
    out[`${k}_details`] = { rate: round(rates[k]) };
  }
  return out;
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * A queue's memory, estimated: bodies held in memory plus a per-entry overhead (the entry,
 * the message object and its properties) — Warren keeps no per-queue heap accounting.
 */
const ENTRY_OVERHEAD_BYTES = 160;

export function queueType(q: Queue): string {
  const t = q.arguments['x-queue-type'];
  return typeof t === 'string' ? t : 'classic';
}

export function queueJson(s: ManagementServices, v: VHost, q: Queue): Obj {
  const sample = s.sampler.queue(q);
  const policy = q.policy ? v.policies.get(q.policy) : undefined;
  const owner = q.exclusive ? s.core.connections.get(q.ownerId) : undefined;
  const sac = q.activeConsumer;
  const exclusiveConsumer = q.consumers.find((c) => c.exclusive);
  const json: Obj = {
    name: q.name,
    vhost: v.name,
    type: queueType(q),
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.exclusive,
    arguments: fieldTableToJson(q.arguments),
    node: s.nodeName,
    state: 'running',
    policy: q.policy,
    operator_policy: null,
    effective_policy_definition: policy ? fieldTableToJson(policy.definition) : {},
    consumers: q.consumerCount,
    exclusive_consumer_tag: exclusiveConsumer ? exclusiveConsumer.tag : null,
    single_active_consumer_tag: sac ? sac.tag : null,
    memory: q.windowBytes + (q.windowLength + q.unackedCount) * ENTRY_OVERHEAD_BYTES,
    message_bytes: q.readyBytes,
    message_bytes_ready: q.readyBytes,
    message_bytes_ram: q.windowBytes,
    message_bytes_paged_out: q.readyBytes - q.windowBytes,
    messages_ram: q.windowLength,
    messages_paged_out: q.pagedCount,
    message_stats: messageStats(sample.counters, sample.rates),
  };
  const depths = { messages: q.messageCount + q.unackedCount, messages_ready: q.messageCount, messages_unacknowledged: q.unackedCount };
  for (const k of DEPTH_KEYS) {
    json[k] = depths[k as DepthKey];
    json[`${k}_details`] = { rate: round(sample.depthRates[k]) };
  }
  if (q instanceof StreamQueue) {
    // a stream keeps its messages on disk in its own log: its size and offsets instead of RAM figures
    const log = q.log;
    json.message_bytes = log.diskBytes;
    json.stream = { first_offset: log.firstOffset, committed_offset: log.committedOffset, next_offset: log.nextOffset, segments: log.segments.length, disk_bytes: log.diskBytes };
  }
  if (q instanceof QuorumQueue) {
    // one node: it leads, and it is the only member (RabbitMQ's quorum queue fields)
    json.leader = s.nodeName;
    json.members = [s.nodeName];
    json.online = [s.nodeName];
    json.delivery_limit = q.settings.deliveryLimit;
    json.messages_dlx = q.pendingDeadLetters;
    json.message_bytes_dlx = q.deadLetterBacklogBytes;
  }
  if (owner) json.owner_pid_details = { name: connectionName(owner), peer_host: owner.info.peerHost, peer_port: owner.info.peerPort };
  return json;
}

export function exchangeJson(s: ManagementServices, v: VHost, x: Exchange): Obj {
  return {
    name: x.name,
    vhost: v.name,
    type: x.type,
    durable: x.durable,
    auto_delete: x.autoDelete,
    internal: x.internal,
    arguments: fieldTableToJson(x.arguments),
    policy: x.policy,
    message_stats: s.sampler.objects.exchangeStats(x),
  };
}

/** Every binding of a vhost, the default exchange's implicit ones first (as RabbitMQ lists them). */
export function bindingsOf(v: VHost): Obj[] {
  const out: Obj[] = [];
  for (const q of v.queues.values()) out.push(defaultBindingJson(v, q));
  for (const x of v.exchanges.values()) {
    if (x.name === '') continue;
    for (const b of x.bindings.values()) out.push(bindingJson(v, b));
  }
  return out;
}

export function bindingJson(v: VHost, b: Binding): Obj {
  return {
    source: b.source.name,
    vhost: v.name,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: fieldTableToJson(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/** The default exchange binds every queue under its own name (AMQP 0-9-1 §3.1.3.1). */
export function defaultBindingJson(v: VHost, q: Queue): Obj {
  return { source: '', vhost: v.name, destination: q.name, destination_type: 'queue', routing_key: q.name, arguments: {}, properties_key: propertiesKey(q.name, {}) };
}

/**
 * What names one binding among those between the same two ends in URLs
 * (`DELETE /api/bindings/{vhost}/e/{source}/q/{queue}/{props}`), as RabbitMQ makes it: the
 * routing key percent-encoded, then `~` and a hash of the arguments when there are any;
 * `~` alone for an empty key without arguments.
 */
export function propertiesKey(routingKey: string, args: Record<string, unknown>): string {
  const quoted = routingKey.replace(/[^A-Za-z0-9._-]/gu, percentEncode);
  const keys = Object.keys(args);
  if (keys.length === 0) return quoted === '' ? '~' : quoted;
  const canonical = JSON.stringify(keys.sort().map((k) => [k, fieldValueToJson(args[k] as never)]));
  return `${quoted}~${Buffer.from(hash32(canonical).toString(16)).toString('base64url')}`;
}

function percentEncode(c: string): string {
  const e = encodeURIComponent(c);
  return e !== c ? e : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** 'amqp-0-9-1' → 'AMQP 0-9-1', 'mqtt-3.1.1' → 'MQTT 3.1.1', 'stomp-1.2' → 'STOMP 1.2' */
export function protocolLabel(protocol: string): string {
  const dash = protocol.indexOf('-');
  return dash < 0 ? protocol.toUpperCase() : `${protocol.slice(0, dash).toUpperCase()} ${protocol.slice(dash + 1)}`;
}

/** A connection's name: its peer address and the broker's id for it (unique, and what DELETE takes). */
export function connectionName(c: Connection): string {
  const host = c.info.peerHost.includes(':') ? `[${c.info.peerHost}]` : c.info.peerHost;
  return `${host}:${c.info.peerPort} (${c.id})`;
}

export function connectionJson(s: ManagementServices, c: Connection): Obj {
  return {
    name: connectionName(c),
    node: s.nodeName,
    type: 'network',
    state: 'running',
    protocol: protocolLabel(c.info.protocol),
    vhost: c.info.vhost,
    user: c.info.user,
    peer_host: c.info.peerHost,
    peer_port: c.info.peerPort,
    connected_at: c.connectedAt,
    channels: c.sessions.size,
    user_provided_name: c.info.name ?? null,
    client_properties: fieldTableToJson(c.info.clientProperties),
    ssl: false,
    ...s.sampler.objects.connectionStats(c),
  };
}

export function channelJson(s: ManagementServices, c: Connection, ch: CoreSession): Obj {
  return {
    name: `${connectionName(c)} (${ch.id})`,
    node: s.nodeName,
    number: ch.id,
    state: 'running',
    vhost: c.info.vhost,
    user: c.info.user,
    connection_details: { name: connectionName(c), peer_host: c.info.peerHost, peer_port: c.info.peerPort, protocol: protocolLabel(c.info.protocol) },
    consumer_count: ch.consumerCount,
    messages_unacknowledged: ch.unackedCount,
    prefetch_count: ch.prefetchCount,
    global_prefetch_count: ch.globalPrefetchCount,
    message_stats: s.sampler.objects.channelStats(ch),
  };
}

export function consumerJson(s: ManagementServices, v: VHost, q: Queue, consumer: Consumer): Obj | null {
  const ch = consumer.session;
  if (!(ch instanceof CoreSession)) return null;
  const c = ch.connection;
  const sac = q.activeConsumer;
  const active = sac === undefined || sac === consumer;
  return {
    consumer_tag: consumer.tag,
    queue: { name: q.name, vhost: v.name },
    channel_details: {
      name: `${connectionName(c)} (${ch.id})`,
      number: ch.id,
      connection_name: connectionName(c),
      peer_host: c.info.peerHost,
      peer_port: c.info.peerPort,
      user: c.info.user,
      node: s.nodeName,
    },
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    arguments: fieldTableToJson(consumer.arguments),
    active,
    activity_status: active ? 'up' : 'waiting',
  };
}
