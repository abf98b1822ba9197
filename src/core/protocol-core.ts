/**
 * What a protocol front-end (a plugin: AMQP, MQTT, STOMP, Kafka) sees of the core: login,
 * opening a connection (and through it sessions), the resource alarms, the limits it applies
 * at its edge, the data directory for its own files, and the few read-only looks at queues
 * and streams a front-end needs beside the `Session` API. The `Core` class implements it;
 * this is a type, so calls through it cost what calls on the class cost.
 *
 * Operator work (snapshots of every object, definitions, users, policies, closing
 * connections) is in `AdminCore` (admin-core.ts).
 */
import type { FieldTable } from '../codec/types.js';
import type { LoginResult } from '../auth/users.js';
import type { ScramMechanism, ScramServerExchange } from '../auth/scram.js';
import type { LoginFailure } from '../auth/login-failures.js';
import type { AlarmKind, AlarmListener, AlarmSettings } from './alarms.js';
import type { ConnectionInfo, CoreConnection } from './api.js';
import type { DurabilityPoints } from './durability.js';
import type { BrokerError } from './errors.js';
import type { VhostLimits } from './limits.js';
import type { Message } from './message.js';
import type { LargeBodyWriter } from '../store/large-body.js';
import type { Db as SqliteDatabase } from '../store/metadata/db.js';
import type { StreamView } from './stream-view.js';

/** The resource alarms (memory, disk) as a front-end follows them to hold publishers. */
export interface AlarmState {
  /** some alarm is in effect: publishes are held */
  readonly blocked: boolean;
  /** why, in words (for AMQP connection.blocked and logs) */
  readonly reason: string;
  readonly active: readonly AlarmKind[];
  readonly settings: Readonly<AlarmSettings>;
  /** @returns a function that stops the listener */
  onChange(listener: AlarmListener): () => void;
}

/** Failed logins are logged and answered after a pause (auth.failure_delay). */
export interface LoginRefusals {
  /** Log `failure`, then call `answer` after the delay; the timer lets a closing connection cancel it. */
  refuse(failure: LoginFailure, answer: () => void): NodeJS.Timeout;
}

/** A queue as a front-end may look at it (plain data, taken when asked). */
export interface QueueSummary {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  readonly messageCount: number;
  readonly consumerCount: number;
}

/** One binding (plain data). The default exchange's implicit bindings are not listed. */
export interface BindingSnapshot {
  readonly vhost: string;
  /** the source exchange ('' never appears: the default exchange binds implicitly) */
  readonly source: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

/**
 * A stream the broker itself owns (a plugin's state, as MQTT's retained messages): declared
 * durable without a client connection, appended to without a session (no permission check,
 * no routing). Readers see an ordinary stream queue.
 */
export interface BrokerStream extends StreamView {
  /**
   * Append `message`. With `points`, its offset is noted there as the write's durability point
   * (or, when the stream refused the append, a failure).
   * @returns the offset, or -1 when the stream refused it (its log failed)
   */
  append(message: Message, points: DurabilityPoints | null): number;
}

export interface ProtocolCore {
  readonly alarms: AlarmState;
  readonly loginFailures: LoginRefusals;
  /** largest message body accepted on any protocol (max_message_size) */
  readonly maxMessageSize: number;
  /** a body larger than this is not held in memory: the front-end streams it to `beginLargeBody` */
  readonly largeMessageThreshold: number;
  /**
   * A writer for a body of `size` bytes, streamed into the vhost's journal as it arrives; its
   * `finish()` is the `bodyRef` of the message then published. Null when the vhost keeps
   * nothing on disk (the body is then assembled in memory). The caller stops reading its
   * socket while the writer's `backlog` is high, until `whenWritten`.
   */
  beginLargeBody(vhost: string, size: number): LargeBodyWriter | null;
  /** the data directory while the store is open (null: everything in memory); plugins keep their own files under it */
  readonly dataDir: string | null;
  /**
   * A plugin's own SQLite database under `dataDir` (`name` is its path there, e.g.
   * 'mqtt/retained.db') is to be replicated with the node's store: call once its schema is in
   * place, before preparing statements. Nothing happens on a single node.
   */
  replicateDatabase(db: SqliteDatabase, name: string): void;
  /**
   * Call `done` once every definition change committed so far (meta.db and the replicated
   * plugin databases) is held by the cluster's in-sync replicas — synchronously when none is
   * waiting, as always on a single node — or with an error when too few replicas are in sync
   * past the deadline (the change stays on this node). A reply that promises durable
   * definitions (declare-ok, bind-ok, delete-ok, a persistent session's SUBACK, a receipt)
   * goes out from `done`, as a publish's confirm waits for the same replicas.
   */
  afterMetadataReplicated(done: (refusal: Error | null) => void): void;
  /**
   * Run `fn` with the definitions it saves (queues, bindings …) made durable together with
   * others' by one fdatasync rather than each at its own commit: the caller sends no reply that
   * vouches for them before `whenMetadataDurable` called back (src/store/metadata/deferred-sync.ts).
   */
  deferMetadataSync<T>(fn: () => T): T;
  /** `done` once every write made in `deferMetadataSync` so far is durable, or with the error of its fdatasync */
  whenMetadataDurable(done: (error: Error | null) => void): void;

  login(user: string, password: string, peerHost: string): LoginResult;
  /** login of an identity TLS verified (the client certificate's name): no password */
  loginVerified(user: string, peerHost: string): LoginResult;
  /** a SCRAM exchange against the users' SCRAM credentials; its authenticated name then goes through `loginVerified` */
  scramExchange(mechanism: ScramMechanism): ScramServerExchange;
  /** why `user` may not open a connection to `vhost`, or null; ask before `connect` so the refusal is a failed login */
  vhostAccessError(user: string, vhost: string): BrokerError | null;
  hasVhost(name: string): boolean;
  /** register a client connection of an authenticated user (limits checked) */
  connect(info: ConnectionInfo): CoreConnection;

  /** the vhost's limits (-1: none), for a front-end that names a refusal in its protocol's terms */
  vhostLimits(vhost: string): Readonly<VhostLimits>;
  /** how many queues `vhost` has (0 for an unknown vhost) */
  queueCount(vhost: string): number;
  queue(vhost: string, name: string): QueueSummary | undefined;
  /** the bindings leading to queue `name` (empty for an unknown queue) */
  queueBindings(vhost: string, name: string): BindingSnapshot[];

  /** the stream queue `name` in `vhost` as a read-only view (undefined: no such stream) */
  stream(vhost: string, name: string): StreamView | undefined;
  streams(vhost: string): StreamView[];
  /**
   * Declare (or find) the broker-owned durable stream `name` in `vhost` with `args`.
   * @throws BrokerError NOT_FOUND for an unknown vhost; the declare's own errors (no store,
   * different arguments, a queue of that name that is not a stream)
   */
  brokerStream(vhost: string, name: string, args: FieldTable): BrokerStream;
}
