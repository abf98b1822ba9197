/**
 * The core's entry module: everything a plugin may use of the core. Front-ends get the
 * `ProtocolCore` interface (login, connections and sessions, alarms, limits, streams) and
 * operators' plugins the `AdminCore` interface (snapshots as plain data, definitions, users,
 * policies, the operations management performs) through their `PluginContext`; both are
 * types that the `Core` class implements, never the class itself. Beside them: the session
 * API, the message, the error catalog and durability points.
 */
export type {
  ConnectionInfo,
  TransportTraffic,
  ExchangeDeclareOptions,
  QueueDeclareOptions,
  QueueDeclareResult,
  ConsumeOptions,
  GetResult,
  SessionHandler,
  DeliveryPosition,
  Session,
  CoreConnection,
  ServerCloser,
  PublishInput,
} from './api.js';
export type { StreamView } from './stream-view.js';
export type { ProtocolCore, AlarmState, LoginRefusals, QueueSummary, BindingSnapshot, BrokerStream } from './protocol-core.js';
export type {
  AdminCore,
  AdminAlarmState,
  VhostSnapshot,
  DeclaredSnapshot,
  QueueSnapshot,
  QueueCounters,
  StreamSnapshot,
  QuorumSnapshot,
  ExchangeSnapshot,
  ConnectionSnapshot,
  TrafficSnapshot,
  SessionSnapshot,
  SessionCounters,
  ConsumerSnapshot,
  PermissionSnapshot,
  TopicPermissionSnapshot,
  UserUpdate,
} from './admin-core.js';
export type { Policy } from './policies.js';
export type { VhostPermission, TopicPermission } from '../auth/permissions.js';
export type { StoreMetricsSnapshot, HistogramSummary } from '../store/metrics.js';
export type { ImportReport } from '../definitions/import-definitions.js';
export type { RabbitDefinitions } from '../definitions/rabbit-format.js';
export type { AlarmKind, AlarmSettings, AlarmListener } from './alarms.js';
export type { FlowListener } from './publisher-flow.js';
export { FLOW_HIGH_BYTES, FLOW_LOW_BYTES } from './publisher-flow.js';
export type { VhostLimits, UserLimits } from './limits.js';
export type { LoginResult, UserRecord } from '../auth/users.js';
export { userWithPassword } from '../auth/users.js';
export { SCRAM_MECHANISMS, isScramMechanism, type ScramMechanism, type ScramServerExchange, type ScramCredentials } from '../auth/scram.js';
export type { LoginFailure } from '../auth/login-failures.js';
export { Message, EMPTY_BODY, parseExpiration, validateExpiration } from './message.js';
export { BodyPool, bodyPool, type BodyFence } from './body-pool.js';
export type { LargeBody, LargeBodyWriter } from '../store/large-body.js';
export {
  BrokerError,
  isBrokerError,
  ERROR_CATALOG,
  type ErrorKind,
  notFound,
  accessRefused,
  preconditionFailed,
  resourceLocked,
  notAllowed,
  commandInvalid,
  notImplemented,
} from './errors.js';
export { DurabilityPoints, whenAllDurable, type DurableLog } from './durability.js';
export type { DurableListener } from '../store/durable-waiters.js';
