import { parseArgs } from 'node:util';

/**
 * Command-line options shared by every scenario. A scenario may add its own
 * (same shape) and override defaults; `parseScenarioArgs` merges them.
 *
 * @typedef {{ kind: 'int' | 'number' | 'string' | 'mode', default: string, help: string, min?: number }} OptionSpec
 * @typedef {Record<string, OptionSpec>} OptionSpecs
 */

export const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** @type {OptionSpecs} */
export const COMMON_OPTIONS = {
  url: { kind: 'string', default: DEFAULT_URL, help: 'AMQP URL of the broker under test' },
  label: { kind: 'string', default: 'broker', help: 'name of the broker in the output (e.g. rabbitmq, warren)' },
  seconds: { kind: 'number', default: '10', min: 0.1, help: 'measured duration' },
  warmup: { kind: 'number', default: '1', min: 0, help: 'seconds of publishing before measuring (JIT, queue process start-up)' },
  size: { kind: 'int', default: '128', min: 20, help: 'message body bytes (at least 20: timestamp, sequence, key index)' },
  window: { kind: 'int', default: '200', min: 1, help: 'most messages in flight (published, not yet consumed; with confirms also not yet confirmed)' },
  prefetch: { kind: 'int', default: '100', min: 0, help: 'basic.qos prefetch-count per consumer (0 = unlimited)' },
  rate: { kind: 'number', default: '0', min: 0, help: 'publishes per second, 0 = as fast as the window allows' },
  mode: { kind: 'mode', default: 'split', help: "'inline': publisher and consumers in this process; 'split': publisher in one child process, all consumers in another; 'fork': a child process each" },
  'broker-pid': { kind: 'int', default: '0', min: 0, help: "pid of the broker's process, to report its CPU use (0 = do not)" },
  'drain-timeout': { kind: 'number', default: '15', min: 0, help: 'seconds to wait, after publishing stops, for consumers to receive everything' },
};

/**
 * @param {OptionSpecs} specs
 * @param {string[]} argv
 * @returns {Record<string, any>} option name → typed value (also camelCase aliases)
 */
export function parseOptions(specs, argv) {
  /** @type {Record<string, { type: 'string' | 'boolean', default?: string }>} */
  const config = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) config[name] = { type: 'string', default: spec.default };
  const { values } = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false });
  if (values.help) return { help: true };
  /** @type {Record<string, any>} */
  const result = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = coerce(name, spec, /** @type {string} */ (values[name]));
    result[name] = value;
    result[camelCase(name)] = value;
  }
  return result;
}

/**
 * @param {string} name @param {OptionSpec} spec @param {string} raw
 * @returns {string | number}
 */
function coerce(name, spec, raw) {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'mode') {
    if (raw !== 'inline' && raw !== 'split' && raw !== 'fork') throw new Error(`--${name} must be 'inline', 'split' or 'fork', got '${raw}'`);
    return raw;
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got '${raw}'`);
  if (spec.kind === 'int' && !Number.isInteger(value)) throw new Error(`--${name} must be an integer, got '${raw}'`);
  if (spec.min !== undefined && value < spec.min) throw new Error(`--${name} must be at least ${spec.min}, got ${value}`);
  return value;
}

/** @param {string} name */
function camelCase(name) {
  return name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/** @param {OptionSpecs} specs @returns {string} */
export function usage(specs) {
  return Object.entries(specs)
    .map(([name, spec]) => `  --${name.padEnd(14)} ${spec.help} (default ${spec.default === '' ? 'none' : spec.default})`)
    .join('\n');
}
