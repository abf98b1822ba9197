/**
 * The `stomp` config section (keys in `stomp.<key> = value` form, env `WARREN_STOMP_<KEY>`)
 * and the typed settings a connection reads.
 */
import type { ConfigKey, PluginConfig } from '../../src/plugin-host/index.js';
import type { FrameLimits } from './frame.js';

/** The `server` header of CONNECTED (STOMP 1.2 "CONNECTED"). */
export const SERVER_HEADER = 'Warren/0.1.0';

export const CONFIG_SCHEMA: Record<string, ConfigKey> = {
  port: { type: 'integer', default: 61613, min: 0, max: 65535, doc: 'TCP port of the STOMP listener (0: any free port).' },
  host: { type: 'string', default: '::', doc: "Address the STOMP listeners bind to ('::' is every IPv6 and IPv4 address)." },
  tcp_enabled: { type: 'boolean', default: true, doc: 'Listen for STOMP over plain TCP.' },
  ws_enabled: { type: 'boolean', default: true, doc: 'Listen for STOMP over WebSocket (Web-STOMP).' },
  ws_port: { type: 'integer', default: 15674, min: 0, max: 65535, doc: 'Port of the STOMP-over-WebSocket listener (0: any free port).' },
  ws_path: { type: 'string', default: '/ws', doc: 'HTTP path at which the WebSocket listener accepts STOMP connections.' },
  ssl_enabled: { type: 'boolean', default: false, doc: 'Also listen for STOMP over TLS, with the broker-wide ssl_options.' },
  ssl_port: { type: 'integer', default: 61614, min: 0, max: 65535, doc: 'Port of the STOMP-over-TLS listener (RabbitMQ stomp.listeners.ssl.default; 0: any free port).' },
  wss_enabled: { type: 'boolean', default: false, doc: 'Also listen for STOMP over secure WebSocket (wss://, same path as ws_path), with the broker-wide ssl_options.' },
  wss_port: { type: 'integer', default: 15673, min: 0, max: 65535, doc: 'Port of the STOMP-over-secure-WebSocket listener (RabbitMQ web_stomp.ssl.port; 0: any free port).' },
  ssl_cert_login: {
    type: 'boolean',
    default: false,
    doc: "A TLS client whose certificate verified (ssl_options.verify = verify_peer) and whose CONNECT has no login/passcode logs in as the certificate's CN, before default_user (RabbitMQ stomp.ssl_cert_login).",
  },
  max_frame_size: {
    type: 'integer',
    default: 4 * 1024 * 1024,
    min: 1024,
    doc: 'Largest frame accepted, in bytes (headers and body); a larger one is an ERROR and the connection closes.',
  },
  max_headers: { type: 'integer', default: 1000, min: 1, doc: 'Most headers accepted on one frame.' },
  max_header_length: { type: 'integer', default: 65536, min: 64, doc: 'Longest header line accepted, in bytes.' },
  default_user: {
    type: 'string',
    default: 'guest',
    doc: "User for CONNECT frames without login/passcode headers ('' requires them), as RabbitMQ's stomp.default_user.",
  },
  default_pass: { type: 'string', default: 'guest', doc: 'Password of default_user.' },
  default_vhost: {
    type: 'string',
    default: '/',
    doc: "Virtual host of a CONNECT whose host header is absent or names no virtual host (RabbitMQ's stomp.default_vhost).",
  },
  host_must_name_vhost: {
    type: 'boolean',
    default: false,
    doc: "RabbitMQ's strictness: refuse a CONNECT whose host header names no virtual host (STOMP 1.2 recommends clients send the host name they dialled, as stomp.py does), instead of using default_vhost.",
  },
  min_heartbeat: {
    type: 'duration',
    default: 1000,
    min: 0,
    doc: 'Shortest heart-beat interval the server agrees to, either way (a client asking for less gets this).',
  },
  login_timeout: {
    type: 'duration',
    default: 10_000,
    min: 0,
    doc: 'How long a new connection may take to send CONNECT before it is closed (0: no limit).',
  },
  trailing_lf: { type: 'boolean', default: true, doc: 'End every frame sent with NUL and a newline (RabbitMQ does), not NUL alone.' },
};

export interface StompSettings {
  port: number;
  host: string;
  tcpEnabled: boolean;
  wsEnabled: boolean;
  wsPort: number;
  wsPath: string;
  sslEnabled: boolean;
  sslPort: number;
  wssEnabled: boolean;
  wssPort: number;
  sslCertLogin: boolean;
  limits: FrameLimits;
  defaultUser: string;
  defaultPass: string;
  defaultVhost: string;
  hostMustNameVhost: boolean;
  minHeartbeat: number;
  loginTimeout: number;
  trailingLf: boolean;
}

/** From the validated config section (defaults filled in by the host; filled here too when absent). */
export function settingsFrom(config: PluginConfig): StompSettings {
  const get = <T extends number | string | boolean>(key: string): T => (config[key] ?? CONFIG_SCHEMA[key]!.default) as T;
  return {
    port: get<number>('port'),
    host: get<string>('host'),
    tcpEnabled: get<boolean>('tcp_enabled'),
    wsEnabled: get<boolean>('ws_enabled'),
    wsPort: get<number>('ws_port'),
    wsPath: get<string>('ws_path'),
    sslEnabled: get<boolean>('ssl_enabled'),
    sslPort: get<number>('ssl_port'),
    wssEnabled: get<boolean>('wss_enabled'),
    wssPort: get<number>('wss_port'),
    sslCertLogin: get<boolean>('ssl_cert_login'),
    limits: {
      maxFrameSize: get<number>('max_frame_size'),
      maxHeaders: get<number>('max_headers'),
      maxHeaderLength: get<number>('max_header_length'),
    },
    defaultUser: get<string>('default_user'),
    defaultPass: get<string>('default_pass'),
    defaultVhost: get<string>('default_vhost'),
    hostMustNameVhost: get<boolean>('host_must_name_vhost'),
    minHeartbeat: get<number>('min_heartbeat'),
    loginTimeout: get<number>('login_timeout'),
    trailingLf: get<boolean>('trailing_lf'),
  };
}
