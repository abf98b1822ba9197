/**
 * What an operator's plugin (management) sees of the core: read-only snapshots of every
 * object as plain data — taken when asked, never live objects, so nothing a plugin holds
 * keeps a deleted queue alive or changes the core behind its back — and the operations
 * operators perform: definitions import and export, users, permissions, policies, vhosts and
 * their limits, closing connections. Queue and exchange operations (declare, delete, purge,
 * bind, publish, get) go through a `Session` of the requesting user, so that the core holds
 * them to that user's permissions. The `Core` class implements this interface; a plugin gets
 * it as `PluginContext.admin` when its manifest asks for it (`adminAccess`).
 */
import type { FieldTable } from '../codec/types.js';
import type { UserRecord } from '../auth/users.js';
import type { TopicPermission, VhostPermission } from '../auth/permissions.js';
import type { RabbitDefinitions } from '../definitions/rabbit-format.js';
import type { ImportReport } from '../definitions/import-definitions.js';
import type { StoreMetricsSnapshot } from '../store/metrics.js';
import type { SessionStats } from './session-stats.js';
import type { UserLimits, VhostLimits } from './limits.js';
import type { Policy } from './policies.js';
import type { AlarmState, BindingSnapshot } from './protocol-core.js';

export interface VhostSnapshot {
  readonly name: string;
  /** description, tags, default_queue_type, limits … as operators set them */
  readonly metadata: Record<string, unknown>;
  readonly limits: VhostLimits;
  readonly queues: number;
  readonly exchanges: number;
  readonly messagesReady: number;
  readonly messagesUnacknowledged: number;
}

/** A queue's counters since it was declared (RabbitMQ's message_stats before rates). */
export interface QueueCounters {
  readonly published: number;
  readonly delivered: number;
  readonly acked: number;
  readonly redelivered: number;
  readonly expired: number;
  readonly deadLettered: number;
  readonly dropped: number;
}

export interface StreamSnapshot {
  readonly firstOffset: number;
  readonly committedOffset: number;
  readonly nextOffset: number;
  readonly segments: number;
  readonly diskBytes: number;
  /** named consumers' (and Kafka groups') last processed offsets */
  readonly storedOffsets: ReadonlyArray<readonly [consumer: string, offset: number]>;
}

export interface QuorumSnapshot {
  readonly deliveryLimit: number;
  /** dead letters waiting for their target (at-least-once) */
  readonly pendingDeadLetters: number;
  readonly deadLetterBacklogBytes: number;
}

/** What queues and exchanges both are: declared objects of a vhost. */
export interface DeclaredSnapshot {
  /** this object's identity: one deleted and declared again under its name gets another */
  readonly id: number;
  readonly name: string;
  readonly vhost: string;
  /** a queue's 'classic', 'quorum' or 'stream' (x-queue-type); an exchange's type */
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  /** the policy in effect */
  readonly policy: string | null;
}

export interface QueueSnapshot extends DeclaredSnapshot {
  readonly exclusive: boolean;
  /** the definition of the policy in effect */
  readonly policyDefinition: FieldTable | null;
  /** the connection owning an exclusive queue, 0 for none */
  readonly ownerConnectionId: number;
  readonly consumerCount: number;
  readonly exclusiveConsumerTag: string | null;
  readonly singleActiveConsumerTag: string | null;
  readonly messagesReady: number;
  readonly messagesUnacknowledged: number;
  /** body bytes of ready messages, and of those held in memory (the rest is paged out) */
  readonly readyBytes: number;
  readonly windowBytes: number;
  /** ready messages held in memory, and those only in the store */
  readonly windowLength: number;
  readonly pagedCount: number;
  readonly counters: QueueCounters;
  readonly stream: StreamSnapshot | null;
  readonly quorum: QuorumSnapshot | null;
}

export interface ExchangeSnapshot extends DeclaredSnapshot {
  readonly internal: boolean;
  /** messages published to it, and copies it routed on (RabbitMQ's publish_in, publish_out) */
  readonly publishIn: number;
  readonly publishOut: number;
}

export interface TrafficSnapshot {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly reads: number;
  readonly writes: number;
  readonly pendingBytes: number;
}

export interface ConnectionSnapshot {
  /** unique while the broker runs; what closeConnection takes */
  readonly id: number;
  readonly protocol: string;
  readonly vhost: string;
  readonly user: string;
  readonly peerHost: string;
  readonly peerPort: number;
  /** the client's name for it (AMQP connection_name, MQTT client id …) */
  readonly name: string | null;
  readonly clientProperties: FieldTable | null;
  readonly connectedAt: number;
  readonly sessions: number;
  /** null for connections without a socket (management's own, MQTT wills and expiry) */
  readonly traffic: TrafficSnapshot | null;
  /** a queue it publishes to holds it: its socket is not read (publisher-flow.ts; management state `flow`) */
  readonly flow: boolean;
}

export type SessionCounters = Readonly<SessionStats>;

export interface SessionSnapshot {
  /** unique while the broker runs */
  readonly id: number;
  readonly connectionId: number;
  readonly consumerCount: number;
  readonly unackedCount: number;
  readonly prefetchCount: number;
  readonly globalPrefetchCount: number;
  readonly counters: SessionCounters;
}

export interface ConsumerSnapshot {
  readonly tag: string;
  readonly vhost: string;
  readonly queue: string;
  readonly sessionId: number;
  readonly connectionId: number;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly prefetch: number;
  readonly arguments: FieldTable;
  /** false while another consumer is the queue's single active one */
  readonly active: boolean;
}

export interface PermissionSnapshot extends VhostPermission {
  readonly user: string;
  readonly vhost: string;
}

export interface TopicPermissionSnapshot extends TopicPermission {
  readonly user: string;
  readonly vhost: string;
}

/** A user to add or replace: with a password in clear (the core derives its hash and SCRAM credentials) or a record as given (definitions carry RabbitMQ's hash). */
export type UserUpdate = { name: string; tags: string[]; password: string } | UserRecord;

/** The alarms as operators see them: what front-ends see, plus the limits behind them. */
export interface AdminAlarmState extends AlarmState {
  /** RSS above which the memory alarm goes off */
  readonly memoryLimitBytes: number;
  /** the directory whose disk the disk alarm watches (null: none) */
  readonly dataDir: string | null;
}

export interface AdminCore {
  readonly alarms: AdminAlarmState;

  // ---- snapshots (plain data) ----
  hasVhost(name: string): boolean;
  vhostNames(): string[];
  listVhosts(): VhostSnapshot[];
  getVhost(name: string): VhostSnapshot | undefined;
  /** every queue, or those of one vhost */
  listQueues(vhost?: string): QueueSnapshot[];
  getQueue(vhost: string, name: string): QueueSnapshot | undefined;
  listExchanges(vhost?: string): ExchangeSnapshot[];
  getExchange(vhost: string, name: string): ExchangeSnapshot | undefined;
  /** every binding but the default exchange's implicit ones, or those of one vhost */
  listBindings(vhost?: string): BindingSnapshot[];
  /** bindings with exchange `name` as their source, or as their destination (exchange-to-exchange) */
  exchangeBindings(vhost: string, name: string, side: 'source' | 'destination'): BindingSnapshot[];
  /** the bindings leading to queue `name` */
  queueBindings(vhost: string, name: string): BindingSnapshot[];
  /** open client connections of every protocol */
  listConnections(): ConnectionSnapshot[];
  getConnection(id: number): ConnectionSnapshot | undefined;
  /** the sessions (channels) of every connection, or of one */
  listSessions(connectionId?: number): SessionSnapshot[];
  /** consumers of client sessions: every queue's, one vhost's, or one queue's */
  listConsumers(vhost?: string, queue?: string): ConsumerSnapshot[];
  listPolicies(vhost?: string): Policy[];
  getPolicy(vhost: string, name: string): Policy | undefined;
  listUsers(): UserRecord[];
  getUser(name: string): UserRecord | undefined;
  userLimits(name: string): UserLimits;
  listPermissions(): PermissionSnapshot[];
  /** whether `user` has permissions in `vhost` (may open connections there) */
  hasPermissions(user: string, vhost: string): boolean;
  listTopicPermissions(): TopicPermissionSnapshot[];
  hasExchangeType(name: string): boolean;
  /** the vhost's message store figures (null without storage) */
  storeMetrics(vhost: string): StoreMetricsSnapshot | null;

  // ---- operations (applied live, saved with storage open) ----
  /** @returns false when no such connection is open; its front-end tells the client `reason` */
  closeConnection(id: number, reason: string): boolean;
  /** create a vhost, or replace its metadata (limits kept) */
  createVhost(name: string, metadata?: Record<string, unknown>): Promise<unknown>;
  /** @returns false for an unknown vhost */
  deleteVhost(name: string): Promise<boolean>;
  setVhostLimits(vhost: string, limits: Partial<VhostLimits>): void;
  putUser(user: UserUpdate): void;
  deleteUser(name: string): boolean;
  setPermissions(user: string, vhost: string, p: VhostPermission): void;
  clearPermissions(user: string, vhost: string): void;
  setTopicPermission(user: string, vhost: string, t: TopicPermission): void;
  clearTopicPermissions(user: string, vhost: string, exchange?: string): void;
  setPolicy(p: Policy): void;
  clearPolicy(vhost: string, name: string): boolean;
  /** RabbitMQ's definitions format; `vhost`: apply to that vhost only */
  importDefinitions(definitions: unknown, vhost?: string): Promise<ImportReport>;
  /** @returns undefined for an unknown vhost */
  exportDefinitions(productVersion: string, vhost?: string): RabbitDefinitions | undefined;
}
