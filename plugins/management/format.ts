/**
 * The JSON shapes of the objects the API lists, with RabbitMQ's field names (checked
 * against RabbitMQ 3.10's /api responses): queues, exchanges, bindings, connections,
 * channels, consumers. Fields whose numbers Warren does not keep (Erlang process figures)
 * are left out rather than faked.
 */
import type {
  BindingSnapshot,
  ConnectionSnapshot,
  ConsumerSnapshot,
  ExchangeSnapshot,
  QueueSnapshot,
  SessionSnapshot,
} from '../../src/core/index.js';
import { fieldTableToJson, fieldValueToJson } from '../../src/definitions/index.js';
import { DEPTH_KEYS, RATE_KEYS, depthsOf, type Counters, type DepthKey } from './sampler.js';
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

export function queueJson(s: ManagementServices, q: QueueSnapshot): Obj {
  const sample = s.sampler.queue(q);
  const owner = q.exclusive ? s.admin.getConnection(q.ownerConnectionId) : undefined;
  const json: Obj = {
    name: q.name,
    vhost: q.vhost,
    type: q.type,
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.exclusive,
    arguments: fieldTableToJson(q.arguments),
    node: s.nodeName,
    state: 'running',
    policy: q.policy,
    operator_policy: null,
    effective_policy_definition: q.policyDefinition ? fieldTableToJson(q.policyDefinition) : {},
    consumers: q.consumerCount,
    exclusive_consumer_tag: q.exclusiveConsumerTag,
    single_active_consumer_tag: q.singleActiveConsumerTag,
    memory: q.windowBytes + (q.windowLength + q.messagesUnacknowledged) * ENTRY_OVERHEAD_BYTES,
    message_bytes: q.readyBytes,
    message_bytes_ready: q.readyBytes,
    message_bytes_ram: q.windowBytes,
    message_bytes_paged_out: q.readyBytes - q.windowBytes,
    messages_ram: q.windowLength,
    messages_paged_out: q.pagedCount,
    message_stats: messageStats(sample.counters, sample.rates),
  };
  const depths = depthsOf(q);
  for (const k of DEPTH_KEYS) {
    json[k] = depths[k as DepthKey];
    json[`${k}_details`] = { rate: round(sample.depthRates[k]) };
  }
  const stream = q.stream;
  if (stream) {
    // a stream keeps its messages on disk in its own log: its size and offsets instead of RAM figures
    json.message_bytes = stream.diskBytes;
    json.stream = { first_offset: stream.firstOffset, committed_offset: stream.committedOffset, next_offset: stream.nextOffset, segments: stream.segments, disk_bytes: stream.diskBytes };
  }
  const quorum = q.quorum;
  if (quorum) {
    // one node: it leads, and it is the only member (RabbitMQ's quorum queue fields)
    json.leader = s.nodeName;
    json.members = [s.nodeName];
    json.online = [s.nodeName];
    json.delivery_limit = quorum.deliveryLimit;
    json.messages_dlx = quorum.pendingDeadLetters;
    json.message_bytes_dlx = quorum.deadLetterBacklogBytes;
  }
  if (owner) json.owner_pid_details = { name: connectionName(owner), peer_host: owner.peerHost, peer_port: owner.peerPort };
  return json;
}

export function exchangeJson(s: ManagementServices, x: ExchangeSnapshot): Obj {
  return {
    name: x.name,
    vhost: x.vhost,
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
export function bindingsOf(s: ManagementServices, vhost: string): Obj[] {
  const out: Obj[] = [];
  for (const q of s.admin.listQueues(vhost)) out.push(defaultBindingJson(vhost, q.name));
  for (const b of s.admin.listBindings(vhost)) out.push(bindingJson(b));
  return out;
}

export function bindingJson(b: BindingSnapshot): Obj {
  return {
    source: b.source,
    vhost: b.vhost,
    destination: b.destination,
    destination_type: b.destinationType,
    routing_key: b.routingKey,
    arguments: fieldTableToJson(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/** The default exchange binds every queue under its own name (AMQP 0-9-1 §3.1.3.1). */
export function defaultBindingJson(vhost: string, queue: string): Obj {
  return { source: '', vhost, destination: queue, destination_type: 'queue', routing_key: queue, arguments: {}, properties_key: propertiesKey(queue, {}) };
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
export function connectionName(c: ConnectionSnapshot): string {
  const host = c.peerHost.includes(':') ? `[${c.peerHost}]` : c.peerHost;
  return `${host}:${c.peerPort} (${c.id})`;
}

export function connectionJson(s: ManagementServices, c: ConnectionSnapshot): Obj {
  return {
    name: connectionName(c),
    node: s.nodeName,
    type: 'network',
    // RabbitMQ's `flow`: publishing is held back by a queue's credit (publisher-flow.ts)
    state: c.flow ? 'flow' : 'running',
    protocol: protocolLabel(c.protocol),
    vhost: c.vhost,
    user: c.user,
    peer_host: c.peerHost,
    peer_port: c.peerPort,
    connected_at: c.connectedAt,
    channels: c.sessions,
    user_provided_name: c.name,
    client_properties: fieldTableToJson(c.clientProperties ?? undefined),
    ssl: false,
    ...s.sampler.objects.connectionStats(c),
  };
}

export function channelJson(s: ManagementServices, c: ConnectionSnapshot, ch: SessionSnapshot): Obj {
  return {
    name: `${connectionName(c)} (${ch.id})`,
    node: s.nodeName,
    number: ch.id,
    state: 'running',
    vhost: c.vhost,
    user: c.user,
    connection_details: { name: connectionName(c), peer_host: c.peerHost, peer_port: c.peerPort, protocol: protocolLabel(c.protocol) },
    consumer_count: ch.consumerCount,
    messages_unacknowledged: ch.unackedCount,
    prefetch_count: ch.prefetchCount,
    global_prefetch_count: ch.globalPrefetchCount,
    message_stats: s.sampler.objects.channelStats(ch),
  };
}

/** `c`: the consumer's connection */
export function consumerJson(s: ManagementServices, consumer: ConsumerSnapshot, c: ConnectionSnapshot): Obj {
  return {
    consumer_tag: consumer.tag,
    queue: { name: consumer.queue, vhost: consumer.vhost },
    channel_details: {
      name: `${connectionName(c)} (${consumer.sessionId})`,
      number: consumer.sessionId,
      connection_name: connectionName(c),
      peer_host: c.peerHost,
      peer_port: c.peerPort,
      user: c.user,
      node: s.nodeName,
    },
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    arguments: fieldTableToJson(consumer.arguments),
    active: consumer.active,
    activity_status: consumer.active ? 'up' : 'waiting',
  };
}
