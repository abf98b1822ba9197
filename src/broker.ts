/**
 * Warren as a library: start and stop a whole broker in-process.
 *
 *   const broker = new Broker({ dataDir: tmp, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
 *   await broker.start();
 *   const url = broker.url('amqp'); // amqp://guest:guest@127.0.0.1:41234
 *   await broker.stop();
 *
 * Start order: resolve the configuration (plugin sections validated by their manifests),
 * create the data directory, create the core, start the enabled plugins in dependency
 * order. Stop is the reverse: plugins stop in reverse order (AMQP clients get
 * connection.close 320 CONNECTION_FORCED with the reason), then the core shuts down.
 */
import { mkdirSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { PeerInfo } from './frontend/peer.js';
import type { Disk } from './store/disk/disk.js';
import type { AppendObserver } from './store/log/append-observer.js';
import type { ClusterView } from './plugin-host/cluster-view.js';
import type { MetadataTap } from './store/metadata/tap.js';
import { Core } from './core/core.js';
import { importDefinitionsFile } from './definitions/import-definitions.js';
import { loadConfig, type ConfigSources, type ResolvedConfig } from './config/load.js';
import { chooseLogFormat, createLogger, type LogFormat, type Logger, type LogLevel } from './log/index.js';
import { BUILTIN_PLUGINS, type PluginTable } from './plugin-host/builtin.js';
import { loadManifests, PluginHost, startOrder } from './plugin-host/host.js';
import type { ListenerAddress, PluginConfig, PluginManifest } from './plugin-host/manifest.js';
import { TlsListeners } from './tls/tls-server.js';
import { unnamedPortsToAnyFree } from './config/unnamed-ports.js';

/** A plugin section in object form: its keys in snake_case or camelCase (`frame_max` or `frameMax`). */
export type SectionOptions = Record<string, number | string | boolean | undefined>;

/**
 * The configuration in object form: the conf file's keys nested at the dots, in camelCase
 * or snake_case. These override the conf file, the environment and flags (when the broker
 * is given those through `BrokerSetup`). Unknown keys are errors, as in the conf file.
 *
 * When the options configure a plugin section (`amqp: { … }`), only the plugins they name
 * start by default (see `onlyConfiguredPlugins`); `plugins: { mqtt: { enabled: true } }`
 * adds another. Every listener port no layer names is 0, any free port (`BrokerSetup.defaultPorts`).
 */
export interface BrokerOptions {
  dataDir?: string;
  log?: { level?: LogLevel; format?: LogFormat; output?: 'stderr' | 'stdout' };
  defaultUser?: string;
  defaultPass?: string;
  defaultVhost?: string;
  /** users that may only connect from localhost; [] for nobody */
  loopbackUsers?: string[];
  /** milliseconds, or text with a unit ('10s') */
  shutdownTimeout?: number | string;
  /** `{ failureDelay: 0 }` answers failed logins at once (default 1 s) */
  auth?: { failureDelay?: number | string };
  /** node-wide connection limit, -1 for none */
  connectionMax?: number;
  /** largest message body, in bytes, on every protocol */
  maxMessageSize?: number;
  /** bodies larger than this, in bytes, are streamed through the journal, never held whole */
  largeMessageThreshold?: number;
  /** a memory-only queue with consumers holds its publishers above this many ready bytes, until it drained to half; 0: never */
  queueFlowBytes?: number;
  /**
   * TLS files and peer verification shared by every TLS listener (RabbitMQ's `ssl_options`):
   * `{ certfile, keyfile, cacertfile, password, verify: 'verify_peer', failIfNoPeerCert, versions }`
   */
  sslOptions?: Record<string, string | boolean | string[] | undefined>;
  /** 'common_name' (default) or 'distinguished_name': the user name certificate login takes */
  sslCertLoginFrom?: 'common_name' | 'distinguished_name';
  /** `{ mqtt: { enabled: false } }` */
  plugins?: Record<string, { enabled?: boolean }>;
  amqp?: SectionOptions;
  mqtt?: SectionOptions;
  stomp?: SectionOptions;
  management?: SectionOptions;
  /** other plugin sections */
  [section: string]: unknown;
}

/** How the broker is embedded, rather than what it is configured to be. */
export interface BrokerSetup {
  /** log through this logger instead of one built from the `log.*` keys */
  logger?: Logger;
  /** the plugins that may run; default: the built-in ones (src/plugin-host/builtin.ts) */
  plugins?: PluginTable;
  /**
   * Lower configuration layers, below the options: a conf file, an environment, flags.
   * A library broker reads none of them unless given here; `warren start` gives all three.
   */
  config?: Omit<ConfigSources, 'options'>;
  /**
   * The store's file I/O (journals, streams, snapshots; not SQLite): default the real disk.
   * For tests only — a simulated disk that loses unsynced data at a power cut
   * (test/helpers/sim-disk.ts) or a real one whose fdatasync waits behind a gate
   * (test/helpers/gated-disk.ts). Deliberately not a configuration key.
   */
  disk?: Disk;
  /**
   * Sees every byte appended to any log of this node (journals, streams) in order, with its
   * durability point (src/store/log/append-observer.ts): the tap replication will use.
   */
  appendObserver?: AppendObserver;
  /** Sees every change to meta.db in commit order (src/store/metadata/tap.ts): replication's metadata log. */
  metadataTap?: MetadataTap;
  /**
   * Listen on each listener's default port (5672, 1883, 15675 …) when no layer names its
   * port, as `warren start` does. Default false: an embedded broker opens every listener
   * whose port nobody named on port 0 (any free port; `address(name)` says which), so it
   * never fights another broker on the machine for a fixed port it was not asked to take.
   */
  defaultPorts?: boolean;
  /** set by a cluster node (src/cluster): its status, shown by the management API */
  cluster?: ClusterView;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class Broker {
  readonly #options: BrokerOptions;
  readonly #setup: BrokerSetup;
  #state: State = 'new';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #config: ResolvedConfig | undefined;
  #log: Logger | undefined;
  #core: Core | undefined;
  #host: PluginHost | undefined;
  #tls: TlsListeners | undefined;

  constructor(options: BrokerOptions = {}, setup: BrokerSetup = {}) {
    this.#options = options;
    this.#setup = setup;
  }

  /** Resolves once every enabled plugin listens; rejects (with nothing left running) on a bad config or a plugin failure. */
  start(): Promise<void> {
    if (this.#state !== 'new') return Promise.reject(new Error(`broker cannot start: it is ${this.#state}`));
    this.#state = 'starting';
    this.#starting = this.#start().catch((e: unknown) => {
      this.#state = 'stopped';
      throw e;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const manifests = onlyConfiguredPlugins(await loadManifests(this.#setup.plugins ?? BUILTIN_PLUGINS), this.#options);
    const config = loadConfig(manifests, { ...this.#setup.config, options: this.#options });
    if (this.#setup.defaultPorts !== true) unnamedPortsToAnyFree(config, manifests);
    this.#config = config;
    const log = this.#setup.logger ?? createLogger({ ...config.log, format: consoleFormat(config) });
    this.#log = log;
    mkdirSync(config.dataDir, { recursive: true });

    const core = new Core({
      log,
      defaultUser: config.defaultUser,
      defaultPass: config.defaultPass,
      defaultVhost: config.defaultVhost,
      loopbackUsers: config.loopbackUsers,
    });
    core.limits.maxConnections = config.connectionMax;
    core.maxMessageSize = config.maxMessageSize;
    core.largeMessageThreshold = config.largeMessageThreshold;
    core.publisherFlow.setHighBytes(config.queueFlowBytes);
    core.loginFailures.delayMs = config.authFailureDelayMs;
    this.#core = core;
    const { disk, appendObserver, metadataTap } = this.#setup;
    await core.openStore(config.dataDir, disk || appendObserver || metadataTap ? { ...config.store, disk, appendObserver, metadataTap } : config.store);
    if (config.loadDefinitions !== '') await loadDefinitions(core, config.loadDefinitions, log);
    core.alarms.settings = { ...core.alarms.settings, ...config.alarms };
    core.alarms.start(config.dataDir);
    const order = startOrder(manifests, (name) => config.plugins.get(name)?.enabled === true);
    const host = new PluginHost({ core, log, stopTimeoutMs: config.shutdownTimeoutMs, tls: (this.#tls = new TlsListeners(config.tls)), ...(this.#setup.cluster ? { cluster: this.#setup.cluster } : {}) });
    this.#host = host;
    const sections = new Map<string, PluginConfig>();
    for (const [name, p] of config.plugins) sections.set(name, p.config);
    try {
      await host.start(order, sections);
    } catch (e) {
      core.shutdown();
      await core.closeStore();
      throw e;
    }
    // Running before the line is written: whoever reacts to the line (a test, a supervisor
    // sending a signal) finds the broker in the state the line announces.
    this.#state = 'running';
    log.info('broker started', {
      dataDir: config.dataDir,
      ...(config.file ? { configFile: config.file } : {}),
      plugins: host.running(),
      listeners: host.addresses(),
    });
  }

  /**
   * Stop the plugins in reverse start order, telling clients `reason`, then shut the core
   * down. Safe to call more than once, or while starting (waits for the start first).
   */
  stop(reason = "broker forced connection closure with reason 'shutdown'"): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped';
      return;
    }
    if (this.#starting) await this.#starting.catch(() => undefined);
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#log!.info('broker stopping', { reason });
    await this.#host!.stop(reason);
    this.#core!.shutdown();
    await this.#core!.closeStore();
    this.#state = 'stopped';
    this.#log!.info('broker stopped');
  }

  get state(): State {
    return this.#state;
  }

  /** The core, for advanced embedding (declaring topology without a client, tests). */
  get core(): Core {
    if (!this.#core) throw new Error('broker not started');
    return this.#core;
  }

  /** The resolved configuration, with each key's source. */
  get config(): ResolvedConfig {
    if (!this.#config) throw new Error('broker not started');
    return this.#config;
  }

  get log(): Logger {
    if (!this.#log) throw new Error('broker not started');
    return this.#log;
  }

  /**
   * Read the TLS certificate files (`ssl_options`) again: new connections on every TLS
   * listener get the new certificate, open ones keep theirs (`warren start` does this on
   * SIGHUP). Throws a ConfigError, changing nothing, when a file cannot be read or used.
   * @returns how many TLS listeners took the new files
   */
  reloadTls(): number {
    if (this.#state !== 'running' || !this.#tls) throw new Error(`broker cannot reload TLS files: it is ${this.#state}`);
    const n = this.#tls.reload();
    this.#log!.info('TLS certificate files reloaded', { listeners: n });
    return n;
  }

  /**
   * Serve a client on any byte stream with the front-end plugin `plugin` ('amqp', 'mqtt',
   * 'stomp'), as if it had connected to one of its listeners: handler tests run over an
   * in-memory pair (`stream.duplexPair()` or two PassThroughs) with no socket. `peer` is the
   * address the connection reports (loopback-only users need a loopback one).
   */
  accept(plugin: string, stream: Duplex, peer?: PeerInfo): void {
    if (this.#state !== 'running' || !this.#host) throw new Error(`broker cannot accept a connection: it is ${this.#state}`);
    this.#host.accept(plugin, stream, peer);
  }

  /** Every listener of every running plugin. */
  listeners(): ListenerAddress[] {
    return this.#host?.addresses() ?? [];
  }

  /** Where the listener `name` ('amqp', 'mqtt' …) accepts connections: the real port when 0 was asked. */
  address(name: string): { host: string; port: number } {
    const found = this.listeners().find((l) => l.name === name);
    if (!found) {
      const known = this.listeners().map((l) => l.name);
      throw new Error(`no listener named ${name} (${known.length ? `listeners: ${known.join(', ')}` : 'none running'})`);
    }
    return { host: found.host, port: found.port };
  }

  /**
   * A URL a client on this machine can connect with: `amqp://guest:guest@127.0.0.1:5672`.
   * A wildcard listen address becomes loopback; the default user's credentials are included;
   * a default vhost other than '/' is appended, as the AMQP URI spec places it.
   */
  url(name: string): string {
    const { host, port } = this.address(name);
    const config = this.config;
    const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
    const auth = `${encodeURIComponent(config.defaultUser)}:${encodeURIComponent(config.defaultPass)}@`;
    const vhost = name.startsWith('amqp') && config.defaultVhost !== '/' ? `/${encodeURIComponent(config.defaultVhost)}` : '';
    return `${name}://${auth}${hostPart}:${port}${vhost}`;
  }
}

/** `log.format`, or text when it is not set and the log lines go to a terminal (chooseLogFormat). */
function consoleFormat(config: ResolvedConfig): LogFormat {
  const stream = config.log.output === 'stdout' ? process.stdout : process.stderr;
  return chooseLogFormat(config.log.format, config.settings.get('log.format')?.source !== 'default', stream.isTTY === true);
}

/**
 * The `load_definitions` file, applied over what the data directory holds (RabbitMQ's
 * `load_definitions`): what it cannot apply is logged and skipped; an unreadable file stops
 * the start (with the store closed), as a bad configuration does.
 */
async function loadDefinitions(core: Core, path: string, log: Logger): Promise<void> {
  try {
    const report = await importDefinitionsFile(core, path);
    for (const w of report.warnings) log.warn('definitions: item skipped', { file: path, detail: w });
    const { warnings, ...counts } = report;
    log.info('definitions loaded', { file: path, ...counts, skipped: warnings.length });
  } catch (e) {
    core.shutdown();
    await core.closeStore();
    throw e;
  }
}

/**
 * Which plugins an embedded broker starts by default. When the options configure at least
 * one plugin section (`{ amqp: { port: 0 } }`), only the plugins whose sections they name
 * start unless `plugins.<name>.enabled` says otherwise: a test suite asking for an AMQP
 * broker on a free port must not also open MQTT on 1883 and STOMP on 61613 (fixed ports that
 * parallel test workers would fight over). Options that name no section (the CLI's) leave
 * each manifest's `enabledByDefault` as it is. Only the default changes: an explicit
 * `plugins.<name>.enabled` in any layer still wins.
 */
function onlyConfiguredPlugins(manifests: PluginManifest[], options: BrokerOptions): PluginManifest[] {
  const named = (m: PluginManifest) => options[m.configSection] !== undefined;
  if (!manifests.some(named)) return manifests;
  return manifests.map((m) => (named(m) || !m.enabledByDefault ? m : { ...m, enabledByDefault: false }));
}
