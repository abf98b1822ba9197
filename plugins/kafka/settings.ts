/** The `kafka` config section (`kafka.<key> = value`, env `WARREN_KAFKA_<KEY>`) and the typed settings. */
import type { ConfigKey, PluginConfig } from '../../src/plugin-host/index.js';

export const CONFIG_SCHEMA: Record<string, ConfigKey> = {
  port: { type: 'integer', default: 9092, min: 0, max: 65535, env: 'WARREN_KAFKA_PORT', doc: 'TCP port of the Kafka listener (0: any free port).' },
  host: { type: 'string', default: '::', doc: "Address the Kafka listeners bind to ('::' is every IPv6 and IPv4 address)." },
  advertised_host: {
    type: 'string',
    default: '',
    doc: "Host name Metadata and FindCoordinator give clients to connect to ('': the address the client reached this broker on).",
  },
  ssl_enabled: { type: 'boolean', default: false, doc: 'Also listen for Kafka over TLS (SSL and SASL_SSL clients), with the broker-wide ssl_options.' },
  ssl_port: { type: 'integer', default: 9093, min: 0, max: 65535, doc: 'Port of the Kafka-over-TLS listener (0: any free port).' },
  vhost: { type: 'string', default: '/', doc: 'Virtual host whose streams are the Kafka topics.' },
  allow_anonymous: {
    type: 'boolean',
    default: true,
    doc: 'Clients that do not authenticate with SASL act as default_user; false requires SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).',
  },
  default_user: { type: 'string', default: 'guest', doc: 'User of clients that do not authenticate (allow_anonymous).' },
  auto_create_topics: { type: 'boolean', default: true, doc: "Create a topic a producer or Metadata request names if it does not exist (Kafka's auto.create.topics.enable)." },
  num_partitions: { type: 'integer', default: 1, min: 1, max: 10_000, doc: "Partitions of an automatically created topic (Kafka's num.partitions)." },
  max_request_size: {
    type: 'integer',
    default: 100 * 1024 * 1024,
    min: 1024,
    doc: "Largest request accepted, in bytes (Kafka's socket.request.max.bytes); a larger frame closes the connection.",
  },
  group_initial_rebalance_delay: {
    type: 'duration',
    default: 300,
    min: 0,
    doc: "How long the first rebalance of an empty group waits for more members (Kafka's group.initial.rebalance.delay.ms).",
  },
};

export interface KafkaSettings {
  port: number;
  host: string;
  advertisedHost: string;
  sslEnabled: boolean;
  sslPort: number;
  vhost: string;
  allowAnonymous: boolean;
  defaultUser: string;
  autoCreateTopics: boolean;
  numPartitions: number;
  maxRequestSize: number;
  initialRebalanceDelayMs: number;
}

export function settingsFrom(config: PluginConfig): KafkaSettings {
  const get = <T extends number | string | boolean>(key: string): T => (config[key] ?? CONFIG_SCHEMA[key]!.default) as T;
  return {
    port: get<number>('port'),
    host: get<string>('host'),
    advertisedHost: get<string>('advertised_host'),
    sslEnabled: get<boolean>('ssl_enabled'),
    sslPort: get<number>('ssl_port'),
    vhost: get<string>('vhost'),
    allowAnonymous: get<boolean>('allow_anonymous'),
    defaultUser: get<string>('default_user'),
    autoCreateTopics: get<boolean>('auto_create_topics'),
    numPartitions: get<number>('num_partitions'),
    maxRequestSize: get<number>('max_request_size'),
    initialRebalanceDelayMs: get<number>('group_initial_rebalance_delay'),
  };
}
