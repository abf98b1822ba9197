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
import { comparisonTable } from './lib/table.mjs';

const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
const DEFAULT_SCENARIOS = 'transient,confirms,fanout,topic';
/** Options forwarded to every scenario when given (validated by the scenario). */
const FORWARDED = ['seconds', 'warmup', 'size', 'window', 'prefetch', 'rate', 'mode', 'drain-timeout'];

const HELP = `usage: node bench/run.mjs [--url label=url]... [options] [-- scenario options]

  --url label=url     broker to measure, repeatable, run in the order given
                      (default rabbitmq=${DEFAULT_URL})
  --pid label=pid     that broker's process id, to report its CPU use
  --scenarios a,b     scenarios to run (default ${DEFAULT_SCENARIOS}; available: ${availableScenarios().join(', ')})
  --baseline label    ratios are other ÷ baseline (default: 'rabbitmq' if given, else the first url)
  --repeat n          run everything n times; the table shows medians (default 1)
  --pause s           seconds to idle between runs so brokers settle (default 2)
  --out file          also write the JSON lines to this file
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
        process.stderr.write(`[bench] ${scenario} on ${label}${repeat > 1 ? ` (round ${round}/${repeat})` : ''} …\n`);
        const result = await runOne(scenario, args);
        result.label ??= label;
        records.push({ scenario, label, result });
        const json = JSON.stringify(result);
        process.stdout.write(`${json}\n`);
        if (out) appendFileSync(out, `${json}\n`);
        process.stderr.write(result.ok
          ? `[bench]   ${result.msgs_per_s} msg/s consumed, p50 ${result.latency_ms?.p50} ms, p99 ${result.latency_ms?.p99} ms\n`
          : `[bench]   FAILED: ${(result.errors ?? []).join('; ')}\n`);
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
