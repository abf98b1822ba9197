import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { COMMON_OPTIONS, parseOptions, usage } from './args.mjs';
import { redactUrl } from './connect.mjs';
import { runScenario } from './coordinator.mjs';

/** Extra seconds beyond the run's own timeouts before the watchdog gives up. */
const WATCHDOG_SLACK_S = 60;

/**
 * `node bench/scenarios/<name>.mjs [options]`: parse options, run, print one
 * JSON line on stdout, exit 0 when the run is ok and 1 when it is not
 * (2 for bad options). Diagnostics go to stderr so stdout stays parseable.
 * @param {import('./coordinator.mjs').Scenario} scenario
 * @param {string[]} [argv]
 */
export async function runScenarioCli(scenario, argv = process.argv.slice(2)) {
  const specs = { ...COMMON_OPTIONS, ...(scenario.options ?? {}) };
  /** @type {Record<string, any>} */
  let options;
  try {
    options = parseOptions(specs, argv);
  } catch (err) {
    process.stderr.write(`${/** @type {Error} */ (err).message}\n\nOptions:\n${usage(specs)}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${scenario.name}: ${scenario.description}\n\nOptions:\n${usage(specs)}\n`);
    process.exit(0);
  }
  const watchdogSeconds = options.warmup + options.seconds + 2 * options.drainTimeout + WATCHDOG_SLACK_S;
  setTimeout(() => {
    const line = { scenario: scenario.name, label: options.label, broker: redactUrl(options.url), ok: false, errors: [`watchdog: no result after ${watchdogSeconds} s`] };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    process.exit(1);
  }, watchdogSeconds * 1000).unref();

  const result = await runScenario(scenario, options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}

/**
 * True when the module with this `import.meta.url` is the script node was
 * asked to run (so a scenario file can be both imported and executed).
 * @param {string} moduleUrl
 */
export function isMain(moduleUrl) {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}
