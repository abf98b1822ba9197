/**
 * Typed configuration keys and the parsing of one value.
 *
 * A key is written the same way everywhere: `amqp.frame_max` in the conf file,
 * `WARREN_AMQP_FRAME_MAX` in the environment, `--amqp.frame_max` (or `--amqp.frame-max`) on
 * the command line, `{ amqp: { frameMax } }` in `new Broker(options)`. Text from the file,
 * the environment and flags is parsed here; typed values from options are checked here.
 * Every failure is a `ConfigError` whose message is one line naming the key and its source.
 */
import type { ConfigKey } from '../plugin-host/manifest.js';

export type KeyType = 'integer' | 'string' | 'boolean' | 'duration' | 'list';
export type ConfigValue = number | string | boolean | string[];

/**
 * A broker-level key. A plugin's `ConfigKey` (manifest.ts) is the subset without `list`
 * and `values`, so both kinds go through the same parser.
 */
export interface KeySpec {
  type: KeyType;
  /** durations: milliseconds as a number, or text with a unit ('60s') */
  default: ConfigValue;
  /** one line, written above the key in conf/warren.conf */
  doc: string;
  /** integers: inclusive range; durations: inclusive range in milliseconds */
  min?: number;
  max?: number;
  /** an extra environment variable name, besides the WARREN_<KEY> one every key has */
  env?: string;
  /** strings: the accepted values */
  values?: readonly string[];
}

/** One line, naming the key and where the bad value came from; the CLI prints it and exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The environment variable every key has: `WARREN_` + the key upper-cased, dots and dashes
 * as underscores (`amqp.frame_max` → `WARREN_AMQP_FRAME_MAX`).
 */
export function envName(key: string): string {
  return 'WARREN_' + key.toUpperCase().replace(/[.-]/g, '_');
}

/** `frameMax` → `frame_max`, `data-dir` → `data_dir`: the spellings options and flags may use. */
export function canonicalKeyPart(part: string): string {
  return part.replace(/-/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `500ms`, `60s`, `1.5m`, `2h`, `1d` → milliseconds. A bare `0` is accepted (off); any other
 * bare number is refused, because `heartbeat = 60` means seconds to a RabbitMQ user and
 * milliseconds to a Node one.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(t);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

/** Milliseconds back to the shortest exact text (`60000` → `60s`), for the generated conf file. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

function describeExpected(spec: KeySpec): string {
  const range = (unit: (n: number) => string) => {
    if (spec.min !== undefined && spec.max !== undefined) return ` from ${unit(spec.min)} to ${unit(spec.max)}`;
    if (spec.min !== undefined) return ` of at least ${unit(spec.min)}`;
    if (spec.max !== undefined) return ` of at most ${unit(spec.max)}`;
    return '';
  };
  switch (spec.type) {
    case 'integer': return 'an integer' + range(String);
    case 'boolean': return 'true or false';
    case 'duration': return 'a duration with a unit (ms, s, m, h, d; e.g. 30s)' + range(formatDuration);
    case 'list': return 'a comma-separated list';
    case 'string': return spec.values ? `one of ${spec.values.join(', ')}` : 'a string';
  }
}

function show(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : Array.isArray(raw) ? JSON.stringify(raw) : String(raw);
}

/**
 * Parse text (file, env, flag) or check a typed value (options, schema defaults) for `key`.
 * @param source where the value came from, e.g. `conf/warren.conf:12`, `env WARREN_AMQP_PORT`
 */
export function parseValue(key: string, spec: KeySpec, raw: unknown, source: string): ConfigValue {
  const value = convert(spec, raw);
  if (value === undefined) {
    throw new ConfigError(`invalid value ${show(raw)} for ${key} (${source}): expected ${describeExpected(spec)}`);
  }
  return value;
}

function convert(spec: KeySpec, raw: unknown): ConfigValue | undefined {
  switch (spec.type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) && inRange(spec, n) ? n : undefined;
    }
    case 'duration': {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseDuration(raw) : undefined;
      return ms !== undefined && Number.isFinite(ms) && ms >= 0 && inRange(spec, ms) ? Math.round(ms) : undefined;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw !== 'string') return undefined;
      const word = raw.trim().toLowerCase();
      return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
    }
    case 'string': {
      if (typeof raw !== 'string') return undefined;
      return spec.values && !spec.values.includes(raw) ? undefined : raw;
    }
    case 'list': {
      if (Array.isArray(raw)) return raw.every((x) => typeof x === 'string') ? [...raw] : undefined;
      if (typeof raw !== 'string') return undefined;
      // RabbitMQ writes `loopback_users = none` for "nobody".
      if (raw.trim() === '' || raw.trim() === 'none') return [];
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    }
  }
}

function inRange(spec: KeySpec, n: number): boolean {
  return (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
}

/** The text a value is written as in conf/warren.conf. */
export function formatValue(spec: KeySpec, value: ConfigValue): string {
  if (spec.type === 'duration') return formatDuration(value as number);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  return String(value);
}

const KEY_PART = /^[a-z][a-z0-9_]*$/;

/**
 * Check a key declaration (broker-level or from a plugin manifest): a valid name, a known
 * type, a doc line, a default that passes its own validation. Throws on a programming error.
 */
export function checkKeySpec(key: string, spec: KeySpec | ConfigKey, owner: string): void {
  if (!key.split('.').every((p) => KEY_PART.test(p))) {
    throw new ConfigError(`${owner}: config key '${key}' must be lower_snake_case words separated by dots`);
  }
  if (!['integer', 'string', 'boolean', 'duration', 'list'].includes(spec.type)) {
    throw new ConfigError(`${owner}: config key '${key}' has unknown type '${String(spec.type)}'`);
  }
  if (typeof spec.doc !== 'string' || spec.doc.trim() === '' || spec.doc.includes('\n')) {
    throw new ConfigError(`${owner}: config key '${key}' needs a one-line doc`);
  }
  parseValue(key, spec, spec.default, `default declared by ${owner}`);
}
