/**
 * The table of every key the broker accepts: the broker-level ones (defaults.ts), one
 * `plugins.<name>.enabled` per known plugin, and each plugin's section from its manifest.
 * Built once per start from the manifests; lookups by key and by environment variable.
 */
import type { PluginManifest } from '../plugin-host/manifest.js';
import { BROKER_KEYS, RESERVED_SECTIONS } from './defaults.js';
import { ConfigError, checkKeySpec, envName, type KeySpec } from './schema.js';

export interface KeyEntry {
  key: string;
  spec: KeySpec;
  /** the plugin whose section this key is in; absent for broker-level keys and enable switches */
  plugin?: string;
  /** the key inside the plugin section (`port` for `amqp.port`) */
  sectionKey?: string;
  /** every environment variable that sets it, the generic WARREN_<KEY> first */
  envNames: string[];
}

export interface KeyTable {
  readonly keys: ReadonlyMap<string, KeyEntry>;
  readonly byEnv: ReadonlyMap<string, KeyEntry>;
}

export function enableKey(pluginName: string): string {
  return `plugins.${pluginName}.enabled`;
}

export function buildKeyTable(manifests: readonly PluginManifest[]): KeyTable {
  const keys = new Map<string, KeyEntry>();
  const byEnv = new Map<string, KeyEntry>();

  const add = (entry: Omit<KeyEntry, 'envNames'>, owner: string) => {
    checkKeySpec(entry.key, entry.spec, owner);
    if (keys.has(entry.key)) throw new ConfigError(`${owner}: config key '${entry.key}' is declared twice`);
    const envNames = [envName(entry.key)];
    if (entry.spec.env && entry.spec.env !== envNames[0]) envNames.push(entry.spec.env);
    const full: KeyEntry = { ...entry, envNames };
    keys.set(entry.key, full);
    for (const name of envNames) {
      const other = byEnv.get(name);
      if (other) throw new ConfigError(`${owner}: environment variable ${name} would set both ${other.key} and ${entry.key}`);
      byEnv.set(name, full);
    }
  };

  for (const [key, spec] of Object.entries(BROKER_KEYS)) add({ key, spec }, 'broker defaults');

  const sections = new Map<string, string>();
  for (const m of manifests) {
    const owner = `plugin ${m.name}`;
    add({
      key: enableKey(m.name),
      spec: { type: 'boolean', default: m.enabledByDefault, doc: `Start the ${m.name} plugin.` },
    }, owner);
    if (RESERVED_SECTIONS.has(m.configSection)) {
      throw new ConfigError(`${owner}: config section '${m.configSection}' is reserved for the broker`);
    }
    const taken = sections.get(m.configSection);
    if (taken) throw new ConfigError(`${owner}: config section '${m.configSection}' is already used by plugin ${taken}`);
    sections.set(m.configSection, m.name);
    for (const [sectionKey, spec] of Object.entries(m.configSchema)) {
      add({ key: `${m.configSection}.${sectionKey}`, spec, plugin: m.name, sectionKey }, owner);
    }
  }
  return { keys, byEnv };
}

/** The known key nearest to a misspelt one, for "did you mean …?" (edit distance ≤ 3). */
export function nearestKey(table: KeyTable, key: string): string | undefined {
  return nearest(table.keys.keys(), key);
}

/** The environment variable nearest to a misspelt WARREN_* one. */
export function nearestEnvName(table: KeyTable, name: string): string | undefined {
  return nearest(table.byEnv.keys(), name);
}

function nearest(candidates: Iterable<string>, word: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of candidates) {
    const d = editDistance(word, known);
    if (d < bestDistance) {
      bestDistance = d;
      best = known;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 4;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
