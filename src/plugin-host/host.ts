/**
 * The plugin host: loads plugin manifests from a table, checks them, orders the enabled
 * ones so that every plugin starts after the plugins it depends on, starts them in that
 * order and stops them in reverse (the fastify/avvio and RabbitMQ boot-step discipline).
 *
 * A plugin that fails to start fails the broker start cleanly: the failure is logged, the
 * plugins already started are stopped (in reverse), and `start` rejects. A plugin that fails
 * or hangs while stopping is logged and skipped after the stop timeout, so the others still
 * stop and the process can exit.
 */
import type { Core } from '../core/core.js';
import type { Logger } from '../log/index.js';
import { DEFAULT_TLS_SETTINGS } from '../tls/settings.js';
import { TlsListeners } from '../tls/tls-server.js';
import { checkKeySpec } from '../config/schema.js';
import type { PluginTable } from './builtin.js';
import { createPluginContext } from './context.js';
import type { ClusterView } from './cluster-view.js';
import type { KafkaView } from './kafka-view.js';
import type { Duplex } from 'node:stream';
import type { PeerInfo } from '../frontend/peer.js';
import type { ListenerAddress, PluginConfig, PluginManifest, RunningPlugin } from './manifest.js';

export class PluginError extends Error {
  override readonly name = 'PluginError';
}

/** Import every plugin in the table (no plugin is started) and check its manifest. */
export async function loadManifests(table: PluginTable): Promise<PluginManifest[]> {
  const manifests: PluginManifest[] = [];
  for (const [name, load] of Object.entries(table)) {
    let module: { default?: unknown };
    try {
      module = await load();
    } catch (e) {
      throw new PluginError(`plugin ${name} could not be loaded: ${(e as Error).message}`, { cause: e });
    }
    manifests.push(validateManifest(module.default, name));
  }
  return manifests;
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const SECTION = /^[a-z][a-z0-9_]*$/;

/** Check the shape of a plugin's default export; `name` is its entry in the plugin table. */
export function validateManifest(candidate: unknown, name: string): PluginManifest {
  const fail = (what: string): never => {
    throw new PluginError(`plugin ${name}: invalid manifest: ${what}`);
  };
  if (candidate === null || typeof candidate !== 'object') return fail('the module has no default export object');
  const m = candidate as Partial<PluginManifest>;
  if (typeof m.name !== 'string' || !NAME.test(m.name)) fail('name must be a lower-case word');
  if (m.name !== name) fail(`its name is '${String(m.name)}' but it is registered as '${name}'`);
  if (typeof m.version !== 'string' || m.version === '') fail('version must be a non-empty string');
  if (typeof m.configSection !== 'string' || !SECTION.test(m.configSection)) fail('configSection must be a lower_snake_case word');
  if (m.configSchema === null || typeof m.configSchema !== 'object') fail('configSchema must be an object');
  if (m.dependsOn !== undefined && (!Array.isArray(m.dependsOn) || !m.dependsOn.every((d) => typeof d === 'string'))) {
    fail('dependsOn must be a list of plugin names');
  }
  if (typeof m.enabledByDefault !== 'boolean') fail('enabledByDefault must be true or false');
  if (m.adminAccess !== undefined && typeof m.adminAccess !== 'boolean') fail('adminAccess must be true or false');
  if (typeof m.start !== 'function') fail('start must be a function');
  for (const [key, spec] of Object.entries(m.configSchema!)) {
    if (spec?.type === ('list' as string)) fail(`config key '${key}': plugin keys cannot be lists`);
    try {
      checkKeySpec(`${m.configSection}.${key}`, spec, `plugin ${name}`);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  return m as PluginManifest;
}

/**
 * The enabled plugins, each after everything it depends on; otherwise in table order.
 * A dependency that is unknown or disabled, or a cycle, is an error naming the plugins.
 */
export function startOrder(manifests: readonly PluginManifest[], enabled: (name: string) => boolean): PluginManifest[] {
  const byName = new Map(manifests.map((m) => [m.name, m]));
  const order: PluginManifest[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (m: PluginManifest, path: string[]) => {
    const s = state.get(m.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new PluginError(`plugin dependency cycle: ${[...path, m.name].join(' -> ')}`);
    state.set(m.name, 'visiting');
    for (const dep of m.dependsOn ?? []) {
      const d = byName.get(dep);
      if (!d) throw new PluginError(`plugin ${m.name} depends on ${dep}, which is not a known plugin`);
      if (!enabled(dep)) throw new PluginError(`plugin ${m.name} depends on ${dep}, which is disabled (plugins.${dep}.enabled = false)`);
      visit(d, [...path, m.name]);
    }
    state.set(m.name, 'done');
    order.push(m);
  };
  for (const m of manifests) if (enabled(m.name)) visit(m, []);
  return order;
}

export interface PluginHostOptions {
  core: Core;
  log: Logger;
  /** how long one plugin's stop may take before the host gives up on it and moves on */
  stopTimeoutMs: number;
  /** the broker-wide TLS settings plugins open TLS listeners with; default: none configured */
  tls?: TlsListeners;
  /** a cluster node's view of itself, offered to plugins (PluginContext.cluster) */
  cluster?: ClusterView;
}

interface Started {
  manifest: PluginManifest;
  running: RunningPlugin;
}

export class PluginHost {
  readonly #core: Core;
  readonly #log: Logger;
  readonly #stopTimeoutMs: number;
  readonly #tls: TlsListeners;
  #started: Started[] = [];

  readonly #cluster: ClusterView | null;

  constructor(options: PluginHostOptions) {
    this.#core = options.core;
    this.#log = options.log;
    this.#stopTimeoutMs = options.stopTimeoutMs;
    this.#tls = options.tls ?? new TlsListeners(DEFAULT_TLS_SETTINGS);
    this.#cluster = options.cluster ?? null;
  }

  /**
   * Start `ordered` (as given by `startOrder`) one after the other. On a failure, stop what
   * started, in reverse, then reject with a PluginError naming the plugin.
   */
  async start(ordered: readonly PluginManifest[], configs: ReadonlyMap<string, PluginConfig>): Promise<void> {
    for (const manifest of ordered) {
      const ctx = createPluginContext(this.#core, manifest, configs.get(manifest.name) ?? {}, this.#log, this.#tls, () => this.addresses(), () => this.kafkaView(), this.#cluster);
      let running: RunningPlugin;
      try {
        running = await manifest.start(ctx);
        if (!running || typeof running.stop !== 'function' || typeof running.addresses !== 'function') {
          throw new Error('start() did not return a RunningPlugin (addresses and stop)');
        }
      } catch (e) {
        this.#log.error('plugin failed to start', { plugin: manifest.name, err: e });
        await this.stop(`broker start failed: plugin ${manifest.name} did not start`);
        throw new PluginError(`plugin ${manifest.name} failed to start: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      this.#started.push({ manifest, running });
      this.#log.info('plugin started', { plugin: manifest.name, version: manifest.version, listeners: running.addresses() });
    }
  }

  /** Names of the running plugins, in start order. */
  running(): string[] {
    return this.#started.map((s) => s.manifest.name);
  }

  /** Every listener of every running plugin. */
  addresses(): ListenerAddress[] {
    return this.#started.flatMap((s) => s.running.addresses());
  }

  /** Serve a client on `stream` with the running plugin `name` (a protocol front-end). */
  accept(name: string, stream: Duplex, peer?: PeerInfo): void {
    const running = this.#started.find((s) => s.manifest.name === name)?.running;
    if (!running?.accept) throw new Error(`plugin ${name} is not running or takes no streams`);
    running.accept(stream, peer);
  }

  /** The running Kafka plugin's view of its topics and groups, or null. */
  kafkaView(): KafkaView | null {
    return this.#started.find((s) => s.running.kafka !== undefined)?.running.kafka ?? null;
  }

  /** Stop every running plugin in reverse start order; never rejects. */
  async stop(reason: string): Promise<void> {
    const started = this.#started;
    this.#started = [];
    for (let i = started.length - 1; i >= 0; i--) {
      const { manifest, running } = started[i]!;
      const outcome = await this.#stopOne(running, reason);
      if (outcome === 'stopped') this.#log.info('plugin stopped', { plugin: manifest.name });
      else if (outcome === 'timeout') {
        this.#log.warn('plugin did not stop in time; moving on', { plugin: manifest.name, timeoutMs: this.#stopTimeoutMs });
      } else this.#log.error('plugin failed to stop', { plugin: manifest.name, err: outcome });
    }
  }

  async #stopOne(running: RunningPlugin, reason: string): Promise<'stopped' | 'timeout' | unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#stopTimeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => running.stop(reason)).then(() => 'stopped' as const), timeout]);
    } catch (e) {
      return e ?? new Error('stop rejected');
    } finally {
      clearTimeout(timer);
    }
  }
}
