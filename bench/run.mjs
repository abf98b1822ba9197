/**
 * Runs scenarios against one or more brokers, one run at a time, and prints
 * a comparison table.
 *
 *   node bench/run.mjs --url rabbitmq=amqp://guest:guest@127.0.0.1:5672 \
 *                      --url warren=amqp://guest:guest@127.0.0.1:5673 \
 *                      --scenarios transient,confirms,fanout,topic --seconds 12
 *
 * Each run is its own `node bench/scenarios/<name>.mjs` process, so a run
 * that fails or hangs cannot disturb the next one. stdout: one JSON line per
 * run as it finishes, then a blank line and the Markdown table; progress goes
 * to stderr. Exit status 1 when any run failed.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_URL } from './lib/args.mjs';
import { sampleHostBusyCores } from './lib/cpu-sampler.mjs';
import { comparisonTable } from './lib/table.mjs';

const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
const DEFAULT_SCENARIOS = 'transient,confirms,fanout,topic';
/** Options forwarded to every scenario when given (validated by the scenario). */
const FORWARDED = ['seconds', 'warmup', 'size', 'window', 'prefetch', 'rate', 'mode', 'drain-timeout'];
/** A machine using less than this many cores (brokers idling) counts as quiet. */
const QUIET_CORES = 0.3;
/** …for this many seconds in a row. */
const QUIET_SECONDS = 3;

const HELP = `usage: node bench/run.mjs [--url label=url]... [options] [-- scenario options]

  --url label=url     broker to measure, repeatable, run in the order given
                      (default rabbitmq=${DEFAULT_URL})
  --pid label=pid     that broker's process id, to report its CPU use
  --scenarios a,b     scenarios to run (default ${DEFAULT_SCENARIOS}; available: ${availableScenarios().join(', ')})
  --baseline label    ratios are other ÷ baseline (default: 'rabbitmq' if given, else the first url)
  --repeat n          run everything n times; the table shows medians (default 1)
  --pause s           seconds to idle between runs so brokers settle (default 2)
  --out file          also write the JSON lines to this file
  --wait-idle s       before each run, wait up to s seconds for the machine to be quiet
                      (< ${QUIET_CORES} cores busy for ${QUIET_SECONDS} s); 0 = do not wait (default 120)
  --retries n         run again, up to n times, a run during which other processes used
                      more than ${QUIET_CORES} cores (needs --pid to know); keeps the quietest (default 2)
  --${FORWARDED.join(', --')}
                      forwarded to every scenario (see node bench/scenarios/transient.mjs --help)
  after --             passed verbatim to every scenario (e.g. -- --queues 8 with fanout,topic only)`;

function availableScenarios() {
  return readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
}

/** @param {string[]} pairs @param {string} flag @returns {[string, string][]} */
function labelled(pairs, flag) {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--${flag} wants label=value, got '${pair}'`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/**
 * @param {string} scenario @param {string[]} args
 * @returns {Promise<Record<string, any>>} the scenario's JSON line, or a failure line
 */
function runOne(scenario, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${SCENARIO_DIR}${scenario}.mjs`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        try {
          resolve(JSON.parse(line));
          return;
        } catch {
          // fall through to a failure line
        }
      }
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      resolve({ scenario, ok: false, errors: [`no result (exit code ${code}, signal ${signal})${tail ? `: ${tail}` : ''}`] });
    });
  });
}

/**
 * Waits until the machine is quiet or `maxMs` has passed.
 * @param {number} maxMs
 * @returns {Promise<{ busy: number | null } | null>} the last sample, null when not waiting
 */
async function waitForQuiet(maxMs) {
  if (maxMs === 0) return null;
  const deadline = Date.now() + maxMs;
  let warned = false;
  let quietSeconds = 0;
  for (;;) {
    const busy = await sampleHostBusyCores(1000);
    if (busy === null) return { busy };
    // Test suites and other benches start in bursts: one quiet second is not enough.
    quietSeconds = busy < QUIET_CORES ? quietSeconds + 1 : 0;
    if (quietSeconds >= QUIET_SECONDS) return { busy };
    if (Date.now() >= deadline) {
      process.stderr.write(`[bench] machine still busy (${busy} cores) after ${maxMs / 1000} s: running anyway; see cpu_cores.other\n`);
      return { busy };
    }
    if (!warned && quietSeconds === 0) process.stderr.write(`[bench] waiting for other processes to finish (${busy} cores busy) …\n`);
    if (quietSeconds === 0) warned = true;
  }
}

/**
 * One run, repeated (up to `retries` more times) while other processes on
 * the machine disturbed it; keeps the least disturbed attempt.
 * @param {string} scenario @param {string} label @param {string[]} args
 * @param {number} round @param {number} repeat @param {number} waitIdleMs @param {number} retries
 * @returns {Promise<Record<string, any>>}
 */
async function runQuietly(scenario, label, args, round, repeat, waitIdleMs, retries) {
  /** @type {Record<string, any> | null} */
  let kept = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const idle = await waitForQuiet(waitIdleMs);
    process.stderr.write(`[bench] ${scenario} on ${label}${repeat > 1 ? ` (round ${round}/${repeat})` : ''}${attempt > 0 ? ` (retry ${attempt})` : ''} …\n`);
    const result = await runOne(scenario, args);
    result.label ??= label;
    if (idle) result.busy_before_cores = idle.busy;
    process.stderr.write(result.ok
      ? `[bench]   ${result.msgs_per_s} msg/s consumed, p50 ${result.latency_ms?.p50} ms, p99 ${result.latency_ms?.p99} ms\n`
      : `[bench]   FAILED: ${(result.errors ?? []).join('; ')}\n`);
    const other = disturbance(result);
    if (kept === null || other < disturbance(kept)) kept = result;
    if (!result.ok || other <= QUIET_CORES) break; // a failure is reported as is, not retried
    process.stderr.write(`[bench]   other processes used ${other} cores during this run: its figures are disturbed${attempt < retries ? ', running it again' : ''}\n`);
  }
  return /** @type {Record<string, any>} */ (kept);
}

/** @param {Record<string, any>} result @returns {number} cores used by other processes, 0 if unknown */
function disturbance(result) {
  const other = result.cpu_cores?.other;
  return typeof other === 'number' ? other : 0;
}

async function main() {
  /** @type {Record<string, { type: 'string' | 'boolean', multiple?: boolean }>} */
  const options = {
    url: { type: 'string', multiple: true },
    pid: { type: 'string', multiple: true },
    scenarios: { type: 'string' },
    baseline: { type: 'string' },
    repeat: { type: 'string' },
    pause: { type: 'string' },
    out: { type: 'string' },
    'wait-idle': { type: 'string' },
    retries: { type: 'string' },
    help: { type: 'boolean' },
  };
  for (const name of FORWARDED) options[name] = { type: 'string' };
  const { values, positionals } = parseArgs({ options, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const targets = labelled(/** @type {string[]} */ (values.url ?? [`rabbitmq=${DEFAULT_URL}`]), 'url');
  const pids = new Map(labelled(/** @type {string[]} */ (values.pid ?? []), 'pid'));
  const scenarios = String(values.scenarios ?? DEFAULT_SCENARIOS).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (!existsSync(`${SCENARIO_DIR}${s}.mjs`)) throw new Error(`unknown scenario '${s}' (available: ${availableScenarios().join(', ')})`);
  const labels = targets.map(([label]) => label);
  if (new Set(labels).size !== labels.length) throw new Error('each --url needs its own label');
  const baseline = String(values.baseline ?? (labels.includes('rabbitmq') ? 'rabbitmq' : labels[0]));
  const repeat = Number(values.repeat ?? 1);
  const pauseMs = Number(values.pause ?? 2) * 1000;
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const waitIdleMs = Number(values['wait-idle'] ?? 120) * 1000;
  if (!(waitIdleMs >= 0)) throw new Error('--wait-idle must be a number of seconds');
  const retries = Number(values.retries ?? 2);
  if (!Number.isInteger(retries) || retries < 0) throw new Error('--retries must be a non-negative integer');
  const out = /** @type {string | undefined} */ (values.out);
  if (out) writeFileSync(out, '');

  /** @type {string[]} */
  const forwarded = [];
  for (const name of FORWARDED) if (values[name] !== undefined) forwarded.push(`--${name}`, String(values[name]));
  forwarded.push(...positionals);

  /** @type {import('./lib/table.mjs').RunRecord[]} */
  const records = [];
  let first = true;
  for (let round = 1; round <= repeat; round++) {
    for (const scenario of scenarios) {
      for (const [label, url] of targets) {
        if (!first) await new Promise((r) => setTimeout(r, pauseMs));
        first = false;
        const args = ['--url', url, '--label', label, ...forwarded];
        if (pids.has(label)) args.push('--broker-pid', /** @type {string} */ (pids.get(label)));
        const result = await runQuietly(scenario, label, args, round, repeat, waitIdleMs, retries);
        records.push({ scenario, label, result });
        const json = JSON.stringify(result);
        process.stdout.write(`${json}\n`);
        if (out) appendFileSync(out, `${json}\n`);
      }
    }
  }
  process.stdout.write(`\n${comparisonTable(records, scenarios, labels, baseline)}\n`);
  return records.every((r) => r.result.ok) ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`bench: ${err.message}\n\n${HELP}\n`);
    process.exitCode = 2;
  },
);
