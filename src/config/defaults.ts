/**
 * The broker-level configuration keys and their defaults: the single source for both the
 * running broker and the generated conf/warren.conf (`npm run gen-conf`).
 *
 * Plugin keys (`amqp.port` …) are declared by each plugin's manifest, not here; whether a
 * plugin starts is `plugins.<name>.enabled`, defaulting to the manifest's `enabledByDefault`.
 */
import { LOG_FORMATS, LOG_LEVELS } from '../log/index.js';
import type { KeySpec } from './schema.js';

export const BROKER_KEYS = {
  data_dir: {
    type: 'string',
    default: './data',
    doc: 'Directory for the message store and metadata; created at start, relative to the working directory.',
    env: 'WARREN_DATA_DIR',
  },
  'log.level': {
    type: 'string',
    default: 'info',
    values: LOG_LEVELS,
    doc: 'Lowest level of the lines logged; silent logs nothing.',
    env: 'WARREN_LOG_LEVEL',
  },
  'log.format': {
    type: 'string',
    default: 'json',
    values: LOG_FORMATS,
    doc: 'json: one object per line, for log collectors; text: one readable line, for people. Not set: text when the lines go to a terminal, json otherwise.',
    env: 'WARREN_LOG_FORMAT',
  },
  'log.output': {
    type: 'string',
    default: 'stderr',
    values: ['stderr', 'stdout'],
    doc: 'Where log lines go.',
    env: 'WARREN_LOG_OUTPUT',
  },
  default_user: {
    type: 'string',
    default: 'guest',
    doc: 'User created at start, administrator with full rights on the default vhost (as RabbitMQ).',
    env: 'WARREN_DEFAULT_USER',
  },
  default_pass: {
    type: 'string',
    default: 'guest',
    doc: 'Password of default_user; change it before exposing the broker beyond localhost.',
    env: 'WARREN_DEFAULT_PASS',
  },
  default_vhost: {
    type: 'string',
    default: '/',
    doc: 'Virtual host created at start.',
    env: 'WARREN_DEFAULT_VHOST',
  },
  loopback_users: {
    type: 'list',
    default: ['guest'],
    doc: 'Users that may only connect from localhost (comma-separated; none for nobody), as RabbitMQ.',
    env: 'WARREN_LOOPBACK_USERS',
  },
  'auth.failure_delay': {
    type: 'duration',
    default: '1s',
    min: 0,
    max: 60_000,
    doc: 'How long a failed login (bad password, unknown user, loopback-only user from afar, no access to the vhost) waits before the refusal is sent, on every protocol; slows down password guessing without holding up other clients. 0 answers at once.',
    env: 'WARREN_AUTH_FAILURE_DELAY',
  },
  connection_max: {
    type: 'integer',
    default: -1,
    min: -1,
    doc: 'Most client connections open at once on this node, all protocols together (RabbitMQ connection_max); -1 for no limit. Per-vhost and per-user limits are set through the management API.',
    env: 'WARREN_CONNECTION_MAX',
  },
  max_message_size: {
    type: 'integer',
    default: 128 * 1024 * 1024,
    min: 1,
    // RabbitMQ's ceiling is 512 MiB; a body above large_message_threshold is never held whole, so ours is 2 GiB
    max: 2 * 1024 * 1024 * 1024,
    doc: 'Largest message body accepted, in bytes, on every protocol (RabbitMQ max_message_size): AMQP 406, MQTT packet too large, STOMP ERROR.',
    env: 'WARREN_MAX_MESSAGE_SIZE',
  },
  large_message_threshold: {
    type: 'integer',
    default: 8 * 1024 * 1024,
    min: 64 * 1024,
    max: 2 * 1024 * 1024 * 1024,
    doc: "A body larger than this is not held in memory: it is written to the vhost's journal as it arrives (AMQP content, STOMP SEND with content-length, MQTT PUBLISH) and read from there piece by piece for each delivery (docs/performance.md, Bodies larger than memory).",
    env: 'WARREN_LARGE_MESSAGE_THRESHOLD',
  },
  queue_flow_bytes: {
    type: 'integer',
    default: 8 * 1024 * 1024,
    min: 0,
    doc: 'Publisher flow by bytes: a queue that holds its messages in memory only (non-durable, or with x-max-priority) and has consumers stops reading the connections that publish to it while its ready bytes are above this, until it drained to half (TCP backpressure, management state flow; docs/security.md, Publisher flow by bytes). 0 turns it off.',
    env: 'WARREN_QUEUE_FLOW_BYTES',
  },
  'store.durability': {
    type: 'string',
    default: 'fsync',
    values: ['fsync', 'write'],
    doc: 'fsync: a persistent message is confirmed once fdatasync put it on disk (survives power loss); write: once written to the OS (survives a crash of Warren, not of the machine).',
    env: 'WARREN_STORE_DURABILITY',
  },
  'store.segment_size': {
    type: 'integer',
    default: 16 * 1024 * 1024,
    min: 1024 * 1024,
    doc: 'Size in bytes at which the message journal starts a new segment file; space is reclaimed a segment at a time.',
    env: 'WARREN_STORE_SEGMENT_SIZE',
  },
  'alarms.memory_high_watermark_percent': {
    type: 'integer',
    default: 40,
    min: 1,
    max: 100,
    doc: 'Memory alarm: publishers are blocked while the broker uses more than this share of the machine\'s memory (RabbitMQ vm_memory_high_watermark.relative).',
    env: 'WARREN_ALARMS_MEMORY_HIGH_WATERMARK_PERCENT',
  },
  'alarms.memory_high_watermark_bytes': {
    type: 'integer',
    default: 0,
    min: 0,
    doc: 'Memory alarm as an absolute RSS in bytes instead of a share; 0 uses the percentage.',
    env: 'WARREN_ALARMS_MEMORY_HIGH_WATERMARK_BYTES',
  },
  'alarms.memory_paging_percent': {
    type: 'integer',
    default: 50,
    min: 1,
    max: 100,
    doc: 'Above this share of the memory high watermark, durable queues keep new messages only on disk (read back as consumers drain) instead of in their in-memory window of up to 64 MiB (RabbitMQ vm_memory_high_watermark_paging_ratio).',
    env: 'WARREN_ALARMS_MEMORY_PAGING_PERCENT',
  },
  'alarms.disk_free_limit': {
    type: 'integer',
    default: 50 * 1024 * 1024,
    min: 0,
    doc: 'Disk alarm: publishers are blocked while the data directory\'s file system has fewer free bytes than this.',
    env: 'WARREN_ALARMS_DISK_FREE_LIMIT',
  },
  'alarms.publish_deadline': {
    type: 'duration',
    default: '60s',
    min: 0,
    doc: 'How long a publish may be held by an alarm before it fails explicitly (AMQP basic.nack or close, MQTT 5 reason 0x97, STOMP ERROR); 0 holds it until the alarm clears, as RabbitMQ does.',
    env: 'WARREN_ALARMS_PUBLISH_DEADLINE',
  },
  load_definitions: {
    type: 'string',
    default: '',
    doc: 'A definitions file (RabbitMQ\'s JSON format: users, vhosts, permissions, policies, exchanges, queues, bindings) imported at every start, after the data directory is opened; empty for none.',
    env: 'WARREN_LOAD_DEFINITIONS',
  },
  'ssl_options.certfile': {
    type: 'string',
    default: '',
    doc: 'TLS: the server certificate (PEM; may include the chain), shared by every TLS listener (amqp/mqtt/stomp ssl_enabled, mqtt/stomp wss_enabled, management ssl_enabled).',
    env: 'WARREN_SSL_OPTIONS_CERTFILE',
  },
  'ssl_options.keyfile': {
    type: 'string',
    default: '',
    doc: 'TLS: the private key of certfile (PEM).',
    env: 'WARREN_SSL_OPTIONS_KEYFILE',
  },
  'ssl_options.password': {
    type: 'string',
    default: '',
    doc: 'TLS: the passphrase of an encrypted keyfile; empty when the key is not encrypted.',
    env: 'WARREN_SSL_OPTIONS_PASSWORD',
  },
  'ssl_options.cacertfile': {
    type: 'string',
    default: '',
    doc: 'TLS: the CA certificates (PEM bundle) client certificates are verified against; empty uses the system roots.',
    env: 'WARREN_SSL_OPTIONS_CACERTFILE',
  },
  'ssl_options.verify': {
    type: 'string',
    default: 'verify_none',
    values: ['verify_none', 'verify_peer'],
    doc: 'TLS: verify_peer asks clients for a certificate and refuses one that does not verify against cacertfile; verify_none asks for none.',
    env: 'WARREN_SSL_OPTIONS_VERIFY',
  },
  'ssl_options.fail_if_no_peer_cert': {
    type: 'boolean',
    default: false,
    doc: 'TLS with verify_peer: refuse clients that present no certificate at all (otherwise they connect and log in with a password).',
    env: 'WARREN_SSL_OPTIONS_FAIL_IF_NO_PEER_CERT',
  },
  'ssl_options.versions': {
    type: 'list',
    default: ['tlsv1.3', 'tlsv1.2'],
    doc: 'TLS: the protocol versions accepted (tlsv1.2, tlsv1.3).',
    env: 'WARREN_SSL_OPTIONS_VERSIONS',
  },
  ssl_cert_login_from: {
    type: 'string',
    default: 'common_name',
    values: ['common_name', 'distinguished_name'],
    doc: "Which part of a verified client certificate is the user name for certificate login (AMQP EXTERNAL, mqtt/stomp ssl_cert_login): its CN, or its whole subject as 'CN=…,O=…'.",
    env: 'WARREN_SSL_CERT_LOGIN_FROM',
  },
  shutdown_timeout: {
    type: 'duration',
    default: '10s',
    min: 0,
    doc: 'How long stop waits for each plugin to close its listeners and connections before moving on.',
    env: 'WARREN_SHUTDOWN_TIMEOUT',
  },
  'cluster.etcd_endpoints': {
    type: 'list',
    default: [],
    doc: 'Clustering: the etcd members (http://host:2379, comma-separated). Empty (the default): a single node, no etcd. Set: this node starts as a standby of the cluster (docs/clustering.md).',
    env: 'WARREN_CLUSTER_ETCD_ENDPOINTS',
  },
  'cluster.name': {
    type: 'string',
    default: 'warren',
    doc: 'Clustering: the cluster\'s name, the etcd key prefix /warren/<name>/; nodes with the same endpoints and name form one cluster.',
    env: 'WARREN_CLUSTER_NAME',
  },
  'cluster.advertised_address': {
    type: 'string',
    default: '127.0.0.1',
    doc: 'Clustering: the IP address other nodes reach this node at (replication and proxied client connections); the leader trusts PROXY headers only from these addresses.',
    env: 'WARREN_CLUSTER_ADVERTISED_ADDRESS',
  },
  'cluster.min_isr': {
    type: 'integer',
    default: 2,
    min: 1,
    doc: 'Clustering: how many nodes (the leader counts) must hold a message on disk before it is confirmed; below it confirms wait, then are refused.',
    env: 'WARREN_CLUSTER_MIN_ISR',
  },
  'cluster.node_id': {
    type: 'string',
    default: '',
    doc: 'Clustering: this node\'s id; empty: a random one made at the first start and kept in the data directory (cluster-node-id).',
    env: 'WARREN_CLUSTER_NODE_ID',
  },
  'cluster.replication_port': {
    type: 'integer',
    default: 5679,
    min: 1,
    max: 65535,
    doc: 'Clustering: the TCP port the leader streams its logs to followers on (bound on cluster.advertised_address).',
    env: 'WARREN_CLUSTER_REPLICATION_PORT',
  },
  'cluster.secret': {
    type: 'string',
    default: '',
    doc: 'Clustering: the secret followers prove to the leader; empty: one is made once and kept in etcd (/warren/<name>/secret).',
    env: 'WARREN_CLUSTER_SECRET',
  },
  'cluster.lease_ttl': {
    type: 'duration',
    default: '10s',
    min: 2000,
    max: 120_000,
    doc: 'Clustering: TTL of this node\'s etcd lease (renewed every third of it); a dead leader is replaced after about this long.',
    env: 'WARREN_CLUSTER_LEASE_TTL',
  },
  'cluster.watchdog_timeout': {
    type: 'duration',
    default: '8s',
    min: 1000,
    doc: 'Clustering: the process ends (kill -9 of itself) when its event loop or an fdatasync has been stuck this long, so a stalled leader cannot keep its lease.',
    env: 'WARREN_CLUSTER_WATCHDOG_TIMEOUT',
  },
  'cluster.mqtt_server_reference': {
    type: 'boolean',
    default: false,
    doc: 'Clustering: a standby answers MQTT 5 clients on mqtt.port with CONNACK 0x9C (use another server) and the leader\'s address as Server Reference, instead of forwarding them; MQTT 3.1.1 clients are forwarded either way.',
    env: 'WARREN_CLUSTER_MQTT_SERVER_REFERENCE',
  },
  'cluster.on_leader': {
    type: 'string',
    default: '',
    doc: 'Clustering: a shell command run when this node becomes the leader (env WARREN_CLUSTER_ROLE, WARREN_CLUSTER_NODE_ID, WARREN_CLUSTER_EPOCH); empty for none.',
    env: 'WARREN_CLUSTER_ON_LEADER',
  },
  'cluster.on_follower': {
    type: 'string',
    default: '',
    doc: 'Clustering: a shell command run when this node starts following a (new) leader, same environment as on_leader; empty for none.',
    env: 'WARREN_CLUSTER_ON_FOLLOWER',
  },
} as const satisfies Record<string, KeySpec>;

export type BrokerKey = keyof typeof BROKER_KEYS;

/**
 * Top-level names a plugin section may not take: the broker-level ones, `plugins` (the
 * enable switches) and `config` (the `--config` flag / `WARREN_CONFIG`).
 */
export const RESERVED_SECTIONS: ReadonlySet<string> = new Set([
  ...Object.keys(BROKER_KEYS).map((k) => k.split('.')[0]!),
  'plugins',
  'config',
]);

/** The conf file read by `warren start` when neither `--config` nor WARREN_CONFIG names one (if it exists). */
export const DEFAULT_CONF_FILE = 'conf/warren.conf';
