/**
 * The `mqtt` section of warren.conf: keys, defaults and docs (the host writes them into
 * conf/warren.conf), and the typed settings the plugin reads. Names follow RabbitMQ's
 * `mqtt.*` keys where RabbitMQ has one.
 */
import type { ConfigKey, PluginConfig } from '../../src/plugin-host/index.js';

export const MQTT_CONFIG_SCHEMA = {
  port: { type: 'integer', default: 1883, min: 0, max: 65535, env: 'WARREN_MQTT_PORT', doc: 'MQTT over TCP port (0: any free port)' },
  host: { type: 'string', default: '::', doc: "address the MQTT listeners bind ('::' = every IPv4 and IPv6 address)" },
  ws_enabled: { type: 'boolean', default: true, doc: 'also accept MQTT over WebSocket' },
  ws_port: { type: 'integer', default: 15675, min: 0, max: 65535, env: 'WARREN_MQTT_WS_PORT', doc: 'MQTT over WebSocket port (0: any free port)' },
  ws_path: { type: 'string', default: '/ws', doc: 'HTTP path of the MQTT WebSocket endpoint (subprotocol mqtt)' },
  ssl_enabled: { type: 'boolean', default: false, doc: 'also accept MQTTS (MQTT over TLS) with the broker-wide ssl_options' },
  ssl_port: { type: 'integer', default: 8883, min: 0, max: 65535, env: 'WARREN_MQTT_SSL_PORT', doc: 'MQTTS port (RabbitMQ mqtt.listeners.ssl.default; 0: any free port)' },
  wss_enabled: { type: 'boolean', default: false, doc: 'also accept MQTT over secure WebSocket (wss://, same path as ws_path) with the broker-wide ssl_options' },
  wss_port: { type: 'integer', default: 15676, min: 0, max: 65535, env: 'WARREN_MQTT_WSS_PORT', doc: 'MQTT over secure WebSocket port (RabbitMQ web_mqtt.ssl.port; 0: any free port)' },
  ssl_cert_login: {
    type: 'boolean',
    default: false,
    doc: "a TLS client whose certificate verified (ssl_options.verify = verify_peer) and that sends no user name or password logs in as the certificate's CN, without a password (RabbitMQ mqtt.ssl_cert_login)",
  },
  vhost: { type: 'string', default: '/', doc: "virtual host of MQTT clients whose user name has no 'vhost:' prefix" },
  exchange: { type: 'string', default: 'amq.topic', doc: 'topic exchange MQTT publishes to and subscriptions bind to' },
  allow_anonymous: { type: 'boolean', default: true, doc: 'clients without a user name log in as default_user' },
  default_user: { type: 'string', default: 'guest', doc: 'user for clients that send no user name (when allow_anonymous)' },
  default_pass: { type: 'string', default: 'guest', doc: 'password of default_user' },
  prefetch: {
    type: 'integer',
    default: 256,
    min: 1,
    max: 65535,
    doc: "most QoS 1/2 deliveries unacknowledged per client: an MQTT 3.1/3.1.1 client's window, and the cap on an MQTT 5 client's Receive Maximum (plugins/mqtt/README.md, Flow control)",
  },
  max_session_expiry_interval_seconds: {
    type: 'integer',
    default: 86400,
    min: 0,
    max: 4294967295,
    doc: 'longest a session outlives its connection; MQTT 3.1.1 persistent sessions get this (4294967295 = never expire)',
  },
  topic_alias_maximum: { type: 'integer', default: 16, min: 0, max: 65535, doc: 'topic aliases a client may use when publishing (MQTT 5)' },
  max_packet_size_unauthenticated: { type: 'integer', default: 65536, min: 1, max: 268435455, doc: 'largest CONNECT packet accepted (bytes)' },
  max_packet_size_authenticated: { type: 'integer', default: 268435455, min: 1, max: 268435455, doc: 'largest packet accepted after CONNECT (bytes)' },
  connect_timeout: { type: 'duration', default: 10000, doc: 'a connection that sends no CONNECT within this time is closed' },
  sparkplug: { type: 'boolean', default: false, doc: "Sparkplug B: keep the '.' of spBv1.0/ topics inside one level" },
  sys_interval: {
    type: 'duration',
    default: 10000,
    doc: "how often the $SYS/broker/... topics (Mosquitto's names: version, uptime, clients, messages, bytes, load …) are published to their subscribers (Mosquitto's sys_interval); 0 publishes none",
  },
  retained_message_store: {
    type: 'string',
    default: 'stream',
    doc: "where retained messages live: 'stream' (a key-compacted stream mqtt-retained per vhost, durable, readable from AMQP and STOMP), 'sqlite' (durable, <data dir>/mqtt/retained.db) or 'memory' (lost at a restart)",
  },
} as const satisfies Record<string, ConfigKey>;

export interface MqttSettings {
  port: number;
  host: string;
  wsEnabled: boolean;
  wsPort: number;
  wsPath: string;
  sslEnabled: boolean;
  sslPort: number;
  wssEnabled: boolean;
  wssPort: number;
  sslCertLogin: boolean;
  vhost: string;
  exchange: string;
  allowAnonymous: boolean;
  defaultUser: string;
  defaultPass: string;
  prefetch: number;
  maxSessionExpirySeconds: number;
  topicAliasMaximum: number;
  maxPacketSizeUnauthenticated: number;
  maxPacketSizeAuthenticated: number;
  connectTimeoutMs: number;
  sparkplug: boolean;
  retainedStore: string;
  sysIntervalMs: number;
}

type Key = keyof typeof MQTT_CONFIG_SCHEMA;

/** Typed settings from a config section; missing keys take the schema's defaults. */
export function settingsFrom(config: PluginConfig): MqttSettings {
  const get = <T extends number | string | boolean>(key: Key): T =>
    (config[key] ?? MQTT_CONFIG_SCHEMA[key].default) as T;
  return {
    port: get('port'),
    host: get('host'),
    wsEnabled: get('ws_enabled'),
    wsPort: get('ws_port'),
    wsPath: get('ws_path'),
    sslEnabled: get('ssl_enabled'),
    sslPort: get('ssl_port'),
    wssEnabled: get('wss_enabled'),
    wssPort: get('wss_port'),
    sslCertLogin: get('ssl_cert_login'),
    vhost: get('vhost'),
    exchange: get('exchange'),
    allowAnonymous: get('allow_anonymous'),
    defaultUser: get('default_user'),
    defaultPass: get('default_pass'),
    prefetch: get('prefetch'),
    maxSessionExpirySeconds: get('max_session_expiry_interval_seconds'),
    topicAliasMaximum: get('topic_alias_maximum'),
    maxPacketSizeUnauthenticated: get('max_packet_size_unauthenticated'),
    maxPacketSizeAuthenticated: get('max_packet_size_authenticated'),
    connectTimeoutMs: get('connect_timeout'),
    sparkplug: get('sparkplug'),
    retainedStore: get('retained_message_store'),
    sysIntervalMs: get('sys_interval'),
  };
}
