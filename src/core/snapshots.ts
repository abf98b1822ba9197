/**
 * Live core objects → the plain-data snapshots of `AdminCore` (admin-core.ts). Copies of
 * numbers, strings and shallow copies of argument tables: a snapshot shares nothing mutable
 * with the core. Not on any hot path: management reads them per request and per sample.
 */
import type { Connection } from './connection.js';
import type { Consumer } from './delivery/consumer.js';
import type { Exchange } from './exchange.js';
import type { Queue } from './queues/queue.js';
import { isQuorumQueue } from './queues/quorum/quorum-queue.js';
import { isStreamQueue, type StreamQueue } from './queues/stream/stream-queue.js';
import { CoreSession } from './session.js';
import type { VHost } from './vhost.js';
import type {
  ConnectionSnapshot,
  ConsumerSnapshot,
  ExchangeSnapshot,
  QueueSnapshot,
  SessionSnapshot,
  StreamSnapshot,
  VhostSnapshot,
} from './admin-core.js';
import type { VhostLimits } from './limits.js';

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A number naming one live object while it lives (queues and exchanges have no id of their own). */
function identityOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

export function vhostSnapshotOf(v: VHost, limits: VhostLimits): VhostSnapshot {
  let ready = 0;
  let unacked = 0;
  for (const q of v.queues.values()) {
    ready += q.messageCount;
    unacked += q.unackedCount;
  }
  return {
    name: v.name,
    metadata: { ...v.metadata },
    limits: { ...limits },
    queues: v.queues.size,
    exchanges: v.exchanges.size,
    messagesReady: ready,
    messagesUnacknowledged: unacked,
  };
}

function streamSnapshotOf(q: StreamQueue): StreamSnapshot {
  const log = q.log;
  return {
    firstOffset: log.firstOffset,
    committedOffset: log.committedOffset,
    nextOffset: log.nextOffset,
    segments: log.segments.length,
    diskBytes: log.diskBytes,
    storedOffsets: [...q.storedOffsets()],
  };
}

export function queueSnapshotOf(v: VHost, q: Queue): QueueSnapshot {
  const type = q.arguments['x-queue-type'];
  const policy = q.policy ? v.policies.get(q.policy) : undefined;
  const sac = q.activeConsumer;
  const exclusiveConsumer = q.consumers.find((c) => c.exclusive);
  const s = q.counters;
  return {
    id: identityOf(q),
    name: q.name,
    vhost: v.name,
    type: typeof type === 'string' ? type : 'classic',
    durable: q.durable,
    autoDelete: q.autoDelete,
    exclusive: q.exclusive,
    arguments: { ...q.arguments },
    policy: q.policy,
    policyDefinition: policy ? { ...policy.definition } : null,
    ownerConnectionId: q.ownerId,
    consumerCount: q.consumerCount,
    exclusiveConsumerTag: exclusiveConsumer ? exclusiveConsumer.tag : null,
    singleActiveConsumerTag: sac ? sac.tag : null,
    messagesReady: q.messageCount,
    messagesUnacknowledged: q.unackedCount,
    readyBytes: q.readyBytes,
    windowBytes: q.windowBytes,
    windowLength: q.windowLength,
    pagedCount: q.pagedCount,
    counters: {
      published: s.published,
      delivered: s.delivered,
      acked: s.acked,
      redelivered: s.redelivered,
      expired: s.expired,
      deadLettered: s.deadLettered,
      dropped: s.dropped,
    },
    stream: isStreamQueue(q) ? streamSnapshotOf(q) : null,
    quorum:
      isQuorumQueue(q)
        ? { deliveryLimit: q.settings.deliveryLimit, pendingDeadLetters: q.pendingDeadLetters, deadLetterBacklogBytes: q.deadLetterBacklogBytes }
        : null,
  };
}

export function exchangeSnapshotOf(v: VHost, x: Exchange): ExchangeSnapshot {
  return {
    id: identityOf(x),
    name: x.name,
    vhost: v.name,
    type: x.type,
    durable: x.durable,
    autoDelete: x.autoDelete,
    internal: x.internal,
    arguments: { ...x.arguments },
    policy: x.policy,
    publishIn: x.publishIn,
    publishOut: x.publishOut,
  };
}

export function connectionSnapshotOf(c: Connection): ConnectionSnapshot {
  const i = c.info;
  const t = i.traffic;
  return {
    id: c.id,
    protocol: i.protocol,
    vhost: i.vhost,
    user: i.user,
    peerHost: i.peerHost,
    peerPort: i.peerPort,
    name: i.name ?? null,
    clientProperties: i.clientProperties ?? null,
    connectedAt: c.connectedAt,
    sessions: c.sessions.length,
    traffic: t ? { bytesRead: t.bytesRead, bytesWritten: t.bytesWritten, reads: t.reads, writes: t.writes, pendingBytes: t.pendingBytes } : null,
    flow: c.flowHeld,
  };
}

export function sessionSnapshotOf(s: CoreSession): SessionSnapshot {
  return {
    id: s.id,
    connectionId: s.connection.id,
    consumerCount: s.consumerCount,
    unackedCount: s.unackedCount,
    prefetchCount: s.prefetchCount,
    globalPrefetchCount: s.globalPrefetchCount,
    counters: { ...s.counters },
  };
}

/** A consumer of a client session (null for the core's internal consumers). */
export function consumerSnapshotOf(v: VHost, q: Queue, c: Consumer): ConsumerSnapshot | null {
  const session = c.session;
  if (!(session instanceof CoreSession)) return null;
  const sac = q.activeConsumer;
  return {
    tag: c.tag,
    vhost: v.name,
    queue: q.name,
    sessionId: session.id,
    connectionId: session.connection.id,
    noAck: c.noAck,
    exclusive: c.exclusive,
    prefetch: c.prefetch,
    arguments: { ...c.arguments },
    active: sac === undefined || sac === c,
  };
}
