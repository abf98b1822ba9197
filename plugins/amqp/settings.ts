/**
 * The `amqp` section of warren.conf: keys, defaults and docs, and the typed settings the
 * plugin reads. Names and defaults are RabbitMQ's (`listeners.tcp`, `listeners.ssl`,
 * `heartbeat`, `frame_max`, `channel_max`, `handshake_timeout`); the message size limit is the broker-wide `max_message_size`.
 */
import type { ConfigKey, PluginConfig } from '../../src/plugin-host/index.js';
import { FRAME_MIN_SIZE } from './codec/constants.js';

export const AMQP_CONFIG_SCHEMA = {
  port: { type: 'integer', default: 5672, min: 0, max: 65535, env: 'WARREN_AMQP_PORT', doc: 'AMQP 0-9-1 port (0: any free port)' },
  host: { type: 'string', default: '::', doc: "address the AMQP listener binds ('::' = every IPv4 and IPv6 address)" },
  ssl_enabled: { type: 'boolean', default: false, doc: 'also accept AMQPS (AMQP over TLS) with the broker-wide ssl_options; clients with a verified certificate may use EXTERNAL' },
  ssl_port: { type: 'integer', default: 5671, min: 0, max: 65535, env: 'WARREN_AMQP_SSL_PORT', doc: 'AMQPS port (RabbitMQ listeners.ssl.default; 0: any free port)' },
  heartbeat: { type: 'integer', default: 60, min: 0, max: 65535, doc: 'heartbeat interval suggested to clients, in seconds (0: none)' },
  frame_max: { type: 'integer', default: 131072, min: FRAME_MIN_SIZE, max: 0xffffffff, doc: 'largest frame accepted, in bytes (clients may ask for less)' },
  channel_max: { type: 'integer', default: 2047, min: 1, max: 65535, doc: 'most channels open at once on one connection' },
  handshake_timeout: { type: 'duration', default: 10000, min: 100, doc: 'a client that has not opened its connection within this time is disconnected' },
  server_product: { type: 'string', default: 'Warren', doc: "product announced in connection.start (RabbitMQ's server_properties); some clients pick RabbitMQ-only behaviour by it" },
  server_version: { type: 'string', default: '', doc: "version announced in connection.start (empty: Warren's own)" },
} as const satisfies Record<string, ConfigKey>;

export interface AmqpSettings {
  port: number;
  host: string;
  sslEnabled: boolean;
  sslPort: number;
  /** seconds */
  heartbeat: number;
  frameMax: number;
  channelMax: number;
  handshakeTimeoutMs: number;
  /** connection.start's product and version ('' version: Warren's own) */
  serverProduct: string;
  serverVersion: string;
}

type Key = keyof typeof AMQP_CONFIG_SCHEMA;

/** Typed settings from the validated section; a missing key takes its default. */
export function settingsFrom(config: PluginConfig): AmqpSettings {
  const get = (key: Key) => config[key] ?? AMQP_CONFIG_SCHEMA[key].default;
  return {
    port: Number(get('port')),
    host: String(get('host')),
    sslEnabled: get('ssl_enabled') === true,
    sslPort: Number(get('ssl_port')),
    heartbeat: Number(get('heartbeat')),
    frameMax: Number(get('frame_max')),
    channelMax: Number(get('channel_max')),
    handshakeTimeoutMs: Number(get('handshake_timeout')),
    serverProduct: String(get('server_product')),
    serverVersion: String(get('server_version')),
  };
}
