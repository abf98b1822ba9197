/**
 * The `management` section of warren.conf. Names and defaults follow RabbitMQ's management
 * plugin (`management.tcp.port = 15672`, `collect_statistics_interval = 5000`).
 */
import type { ConfigKey, PluginConfig } from '../../src/plugin-host/index.js';

export const MANAGEMENT_CONFIG_SCHEMA = {
  port: { type: 'integer', default: 15672, min: 0, max: 65535, env: 'WARREN_MANAGEMENT_PORT', doc: 'HTTP port of the management API, web UI and /metrics (0: any free port)' },
  host: { type: 'string', default: '::', doc: "address the management listener binds ('::' = every IPv4 and IPv6 address)" },
  ssl_enabled: { type: 'boolean', default: false, doc: 'also serve the API, UI and /metrics over HTTPS, with the broker-wide ssl_options' },
  ssl_port: { type: 'integer', default: 15671, min: 0, max: 65535, env: 'WARREN_MANAGEMENT_SSL_PORT', doc: 'HTTPS port of the management listener (RabbitMQ management.ssl.port; 0: any free port)' },
  sample_interval: {
    type: 'duration',
    default: 5000,
    min: 100,
    doc: 'how often message rates are sampled for the API, the UI charts and /metrics (RabbitMQ collect_statistics_interval)',
  },
  metrics_auth: {
    type: 'boolean',
    default: false,
    doc: 'require HTTP basic auth (a monitoring or administrator user) for /metrics; off by default, as Prometheus scrapes RabbitMQ without credentials',
  },
  request_timeout: {
    type: 'duration',
    default: 120_000,
    min: 100,
    doc: "a request whose head and body have not all arrived within this time is answered 408 and its connection closed (slowloris; RabbitMQ management.tcp.request_timeout); the head alone gets at most 60s",
  },
  max_body_size: {
    type: 'integer',
    default: 64 * 1024 * 1024,
    min: 1024,
    doc: 'largest request body accepted, in bytes (definitions imports, published messages)',
  },
} as const satisfies Record<string, ConfigKey>;

export interface ManagementSettings {
  port: number;
  host: string;
  sslEnabled: boolean;
  sslPort: number;
  sampleIntervalMs: number;
  metricsAuth: boolean;
  maxBodySize: number;
  requestTimeoutMs: number;
}

type Key = keyof typeof MANAGEMENT_CONFIG_SCHEMA;

export function settingsFrom(config: PluginConfig): ManagementSettings {
  const get = (key: Key) => config[key] ?? MANAGEMENT_CONFIG_SCHEMA[key].default;
  return {
    port: Number(get('port')),
    host: String(get('host')),
    sslEnabled: get('ssl_enabled') === true,
    sslPort: Number(get('ssl_port')),
    sampleIntervalMs: Number(get('sample_interval')),
    metricsAuth: get('metrics_auth') === true,
    maxBodySize: Number(get('max_body_size')),
    requestTimeoutMs: Number(get('request_timeout')),
  };
}
