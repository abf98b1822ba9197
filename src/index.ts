/**
 * Warren's public API, for embedding a broker in a process (a microservice's test suite,
 * a tool): `import { Broker } from 'warren'`.
 */
export { Broker, type BrokerOptions, type BrokerSetup, type SectionOptions } from './broker.js';
export { BrokerError, isBrokerError, type ErrorKind } from './core/errors.js';
export { ConfigError } from './config/schema.js';
export type { ResolvedConfig, ConfigSources, PluginSettings } from './config/load.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions, type LogLevel, type LogFormat, type LogFields, type LogSink } from './log/index.js';
export { PluginError } from './plugin-host/host.js';
export type { PluginTable } from './plugin-host/builtin.js';
export type {
  ConfigKey,
  ListenerAddress,
  PluginConfig,
  PluginContext,
  PluginManifest,
  RunningPlugin,
} from './plugin-host/manifest.js';
export type { Core } from './core/core.js';
export type { ProtocolCore, AdminCore } from './core/index.js';
/** what `Broker.accept` may say about the client on an in-memory (or other) stream */
export type { PeerInfo } from './frontend/index.js';
