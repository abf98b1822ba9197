/**
 * Resolve the configuration: defaults < conf file < environment < command-line flags <
 * `new Broker(options)`. Later layers override earlier ones key by key; every key is
 * validated by its schema (broker-level ones from defaults.ts, plugin sections from the
 * plugin's manifest), and an unknown key is an error, so that a typo never passes silently.
 * See docs/configuration.md for the reasons behind the order and the names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LogFormat, LogLevel } from '../log/index.js';
import type { PluginConfig, PluginManifest } from '../plugin-host/manifest.js';
import { versionRange, type CertLoginFrom, type PeerVerification, type TlsSettings } from '../tls/settings.js';
import { clusterSettings, type ClusterSettings } from './cluster-settings.js';
import { parseConfText } from './conf-file.js';
import { buildKeyTable, enableKey, nearestEnvName, nearestKey, type KeyTable } from './keys.js';
import { ConfigError, canonicalKeyPart, parseValue, type ConfigValue } from './schema.js';

export interface ConfigSources {
  /** a conf file that must exist (`--config` and WARREN_CONFIG name another one) */
  file?: string;
  /** a conf file read only if it exists and nothing else names one (the CLI's conf/warren.conf) */
  defaultFile?: string;
  /** the environment: `WARREN_*` variables (and the extra names schemas declare) are read */
  env?: Readonly<Record<string, string | undefined>>;
  /** flags after the command: `--amqp.port 5673`, `--data-dir=/x`, `--config path` */
  argv?: readonly string[];
  /** object form, as `new Broker(options)` takes it: `{ dataDir, log: { level }, amqp: { port } }` */
  options?: Readonly<Record<string, unknown>>;
  /** relative paths (conf file, data_dir) are resolved against this; default process.cwd() */
  cwd?: string;
}

export interface PluginSettings {
  enabled: boolean;
  /** the plugin's section, every key of its schema present */
  config: PluginConfig;
}

export interface ResolvedConfig {
  /** absolute */
  dataDir: string;
  log: { level: LogLevel; format: LogFormat; output: 'stderr' | 'stdout' };
  defaultUser: string;
  defaultPass: string;
  defaultVhost: string;
  loopbackUsers: string[];
  shutdownTimeoutMs: number;
  /** definitions file imported at start (absolute), or '' */
  loadDefinitions: string;
  store: { durability: 'fsync' | 'write'; segmentSize: number };
  alarms: { memoryHighWatermark: number; memoryPagingRatio: number; diskFreeLimit: number; publishDeadlineMs: number };
  /** pause before a failed login is answered (auth.failure_delay), ms */
  authFailureDelayMs: number;
  /** node-wide connection limit (connection_max), -1 for none */
  connectionMax: number;
  /** largest message body on every protocol (max_message_size) */
  maxMessageSize: number;
  /** bodies above this stream through the journal (large_message_threshold) */
  largeMessageThreshold: number;
  /** a memory-only queue holds its publishers above this many ready bytes (queue_flow_bytes; 0: never) */
  queueFlowBytes: number;
  /** `ssl_options.*` and `ssl_cert_login_from`: shared by every TLS listener */
  tls: TlsSettings;
  /** `cluster.*`: empty etcdEndpoints for a single node */
  cluster: ClusterSettings;
  /** by plugin name */
  plugins: Map<string, PluginSettings>;
  /** the conf file that was read, if any (absolute) */
  file?: string;
  /** every key's final value and where it came from: 'default', 'conf/warren.conf:3', 'env WARREN_X', 'flag --x', 'option x' */
  settings: Map<string, { value: ConfigValue; source: string }>;
}

interface Setting {
  key: string;
  value: unknown;
  source: string;
}

export function loadConfig(manifests: readonly PluginManifest[], sources: ConfigSources = {}): ResolvedConfig {
  const table = buildKeyTable(manifests);
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? {};
  const flags = parseFlags(sources.argv ?? []);

  const settings = new Map<string, { value: ConfigValue; source: string }>();
  for (const [key, entry] of table.keys) {
    settings.set(key, { value: parseValue(key, entry.spec, entry.spec.default, 'default'), source: 'default' });
  }
  const apply = (layer: Setting[]) => {
    for (const s of layer) {
      const entry = table.keys.get(s.key);
      if (!entry) throw unknownKey(table, s.key, s.source);
      settings.set(s.key, { value: parseValue(s.key, entry.spec, s.value, s.source), source: s.source });
    }
  };

  const file = chooseFile(sources, env, flags.config, cwd);
  if (file) apply(readConfFile(file.path, file.label));
  apply(envSettings(table, env));
  apply(flags.settings);
  if (sources.options) apply(optionSettings(sources.options, '', ''));

  return resolved(table, settings, cwd, file?.path);
}

function unknownKey(table: KeyTable, key: string, source: string): ConfigError {
  const near = nearestKey(table, key);
  return new ConfigError(`unknown key ${key} (${source})${near ? `; did you mean ${near}?` : ''}`);
}

function chooseFile(sources: ConfigSources, env: ConfigSources['env'] & object, flag: string | undefined, cwd: string) {
  const named = flag !== undefined ? { name: flag, how: 'flag --config' }
    : env.WARREN_CONFIG ? { name: env.WARREN_CONFIG, how: 'env WARREN_CONFIG' }
    : sources.file !== undefined ? { name: sources.file, how: 'config file' }
    : undefined;
  if (named) {
    const path = resolve(cwd, named.name);
    if (!existsSync(path)) throw new ConfigError(`config file ${named.name} not found (${named.how})`);
    return { path, label: named.name };
  }
  if (sources.defaultFile !== undefined) {
    const path = resolve(cwd, sources.defaultFile);
    if (existsSync(path)) return { path, label: sources.defaultFile };
  }
  return undefined;
}

function readConfFile(path: string, label: string): Setting[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${label}: ${(e as Error).message}`);
  }
  return parseConfText(text, label);
}

/**
 * Every key's WARREN_<KEY> variable and any extra name its schema declares. An empty
 * variable counts as unset (container tooling often exports empty ones). An unknown
 * WARREN_* variable is an error, as an unknown key in the file is.
 */
function envSettings(table: KeyTable, env: Readonly<Record<string, string | undefined>>): Setting[] {
  const out = new Map<string, Setting>();
  for (const [name, entry] of table.byEnv) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const earlier = out.get(entry.key);
    if (earlier && earlier.value !== value) {
      throw new ConfigError(`${earlier.source} and env ${name} both set ${entry.key}, to different values`);
    }
    out.set(entry.key, { key: entry.key, value, source: `env ${name}` });
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('WARREN_') || name === 'WARREN_CONFIG' || table.byEnv.has(name)) continue;
    if (env[name] === undefined || env[name] === '') continue;
    const near = nearestEnvName(table, name);
    throw new ConfigError(`unknown environment variable ${name}${near ? `; did you mean ${near}?` : ''}`);
  }
  return [...out.values()];
}

/**
 * `--key value`, `--key=value`; dashes in a key read as underscores (`--data-dir`). A
 * boolean flag may stand alone (`--plugins.mqtt.enabled`), which reads as true: handled
 * by giving it the value 'true' when the next argument is another flag or absent.
 */
export function parseFlags(argv: readonly string[]): { config?: string; settings: Setting[] } {
  const settings: Setting[] = [];
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}; settings are --key value`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else value = 'true';
    const key = name.split('.').map(canonicalKeyPart).join('.');
    if (key === 'config') config = value;
    else settings.push({ key, value, source: `flag --${name}` });
  }
  return config === undefined ? { settings } : { config, settings };
}

/** `{ amqp: { frameMax: 1 } }` → amqp.frame_max; undefined values are skipped (not set). */
function optionSettings(obj: Readonly<Record<string, unknown>>, prefix: string, path: string): Setting[] {
  const out: Setting[] = [];
  for (const [name, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const key = prefix + canonicalKeyPart(name);
    const where = path + name;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...optionSettings(value as Record<string, unknown>, key + '.', where + '.'));
    } else {
      out.push({ key, value, source: `option ${where}` });
    }
  }
  return out;
}

function resolved(table: KeyTable, settings: ResolvedConfig['settings'], cwd: string, file: string | undefined): ResolvedConfig {
  const get = (key: string) => settings.get(key)!.value;
  const plugins = new Map<string, PluginSettings>();
  for (const entry of table.keys.values()) {
    if (!entry.plugin || !entry.sectionKey) continue;
    let p = plugins.get(entry.plugin);
    if (!p) {
      p = { enabled: get(enableKey(entry.plugin)) as boolean, config: {} };
      plugins.set(entry.plugin, p);
    }
    p.config[entry.sectionKey] = get(entry.key) as number | string | boolean;
  }
  // A plugin with an empty schema still gets its enable switch.
  for (const key of table.keys.keys()) {
    const m = /^plugins\.([^.]+)\.enabled$/.exec(key);
    if (m && !plugins.has(m[1]!)) plugins.set(m[1]!, { enabled: get(key) as boolean, config: {} });
  }
  const result: ResolvedConfig = {
    dataDir: resolve(cwd, get('data_dir') as string),
    log: {
      level: get('log.level') as LogLevel,
      format: get('log.format') as LogFormat,
      output: get('log.output') as 'stderr' | 'stdout',
    },
    defaultUser: get('default_user') as string,
    defaultPass: get('default_pass') as string,
    defaultVhost: get('default_vhost') as string,
    loopbackUsers: get('loopback_users') as string[],
    shutdownTimeoutMs: get('shutdown_timeout') as number,
    loadDefinitions: (get('load_definitions') as string) === '' ? '' : resolve(cwd, get('load_definitions') as string),
    store: { durability: get('store.durability') as 'fsync' | 'write', segmentSize: get('store.segment_size') as number },
    alarms: {
      memoryHighWatermark: (get('alarms.memory_high_watermark_bytes') as number) || (get('alarms.memory_high_watermark_percent') as number) / 100,
      memoryPagingRatio: (get('alarms.memory_paging_percent') as number) / 100,
      diskFreeLimit: get('alarms.disk_free_limit') as number,
      publishDeadlineMs: get('alarms.publish_deadline') as number,
    },
    authFailureDelayMs: get('auth.failure_delay') as number,
    connectionMax: get('connection_max') as number,
    maxMessageSize: get('max_message_size') as number,
    largeMessageThreshold: get('large_message_threshold') as number,
    queueFlowBytes: get('queue_flow_bytes') as number,
    tls: tlsSettings(get, cwd),
    cluster: clusterSettings(get),
    plugins,
    settings,
  };
  if (file) result.file = file;
  return result;
}

function tlsSettings(get: (key: string) => ConfigValue, cwd: string): TlsSettings {
  const path = (key: string) => ((get(key) as string) === '' ? '' : resolve(cwd, get(key) as string));
  return {
    certfile: path('ssl_options.certfile'),
    keyfile: path('ssl_options.keyfile'),
    cacertfile: path('ssl_options.cacertfile'),
    password: get('ssl_options.password') as string,
    verify: get('ssl_options.verify') as PeerVerification,
    failIfNoPeerCert: get('ssl_options.fail_if_no_peer_cert') as boolean,
    ...versionRange(get('ssl_options.versions') as string[]),
    certLoginFrom: get('ssl_cert_login_from') as CertLoginFrom,
  };
}
