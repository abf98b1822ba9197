/**
 * Every scenario of the comparison table in docs/performance.md, against Warren and every
 * other broker found on this machine that speaks the scenario's protocol, in one invocation:
 *
 *   npm run bench:all -- [--repeat 3] [--seconds 10] [--only amqp-transient,mqtt-qos0,…]
 *
 * Warren is built (or taken from --build) and started fresh for every run; RabbitMQ is used
 * where it answers (AMQP 5672, STOMP 61613, MQTT 1883, or the URLs given); Mosquitto and Aedes
 * are started fresh for every run when installed (see bench/lib/brokers.mjs). Each run is the
 * existing scenario script in its own process (bench/scenarios/*.mjs, bench/rpc.mjs,
 * bench/priority.mjs, bench/mqtt/*.mjs, bench/amqp-idle-connections.mjs), so a failed run
 * cannot disturb the next. Rounds alternate the brokers' order; the table shows medians,
 * Warren ÷ each other broker, and whether the row's target is met. JSON lines (one per run)
 * go to stdout and to bench/results/all-<time>.jsonl (or --out). Exit status 1 when a run
 * failed.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, aedes, connectionHeadroom, mosquitto, rabbitmq, warren, warrenBuild } from './lib/brokers.mjs';
import { sampleHostBusyCores } from './lib/cpu-sampler.mjs';
import { median } from './lib/table.mjs';

/**
 * @typedef {import('./lib/brokers.mjs').Protocol} Protocol
 * @typedef {import('./lib/brokers.mjs').RunningBroker} RunningBroker
 * @typedef {{ name: string, pick: (r: Record<string, any>) => number | undefined, decimals: number, lower?: boolean }} Metric
 * @typedef {{ against: string, ratio: number, metric: number, text: string }} Target
 * @typedef {{ id: string, protocol: Protocol, title: string, args: (b: RunningBroker, o: Record<string, any>) => string[] | null,
 *   metrics: Metric[], targets: Target[] }} Row
 */

const rate = (/** @type {string} */ name, /** @type {(r: Record<string, any>) => number | undefined} */ pick) => ({ name, pick, decimals: 0 });
const p50 = { name: 'latency p50 ms', pick: (/** @type {Record<string, any>} */ r) => r.latency_ms?.p50, decimals: 3, lower: true };
const kib = { name: 'KiB per idle connection (RSS)', pick: (/** @type {Record<string, any>} */ r) => r.kib_per_connection, decimals: 1, lower: true };
const more = (/** @type {string} */ against, /** @type {number} */ ratio) => ({ against, ratio, metric: 0, text: `≥ ${ratio}× ${against}` });

/** AMQP scenario files of bench/scenarios (coordinator-driven, split mode) */
const amqpScenario = (/** @type {string} */ file) => (/** @type {RunningBroker} */ b, /** @type {Record<string, any>} */ o) => [
  join(REPO, 'bench', 'scenarios', `${file}.mjs`), '--url', /** @type {string} */ (b.urls.amqp), '--label', b.label,
  '--seconds', o.seconds, '--warmup', o.warmup, ...(b.pid ? ['--broker-pid', String(b.pid)] : []),
];
const mqttFlow = (/** @type {string} */ file, /** @type {number} */ qos) => (/** @type {RunningBroker} */ b, /** @type {Record<string, any>} */ o) => [
  join(REPO, 'bench', 'mqtt', `${file}.mjs`), '--url', /** @type {string} */ (b.urls.mqtt), '--label', b.label, '--qos', String(qos),
  '--seconds', o.seconds, '--warmup', o.warmup, '--size', '128', ...(b.pid ? ['--pid', String(b.pid)] : []),
];
/**
 * Idle connections to open: --connections, or fewer when the broker's file descriptor limit
 * would not take them (RabbitMQ's is often 1,024; the per-connection figure does not need more).
 * @param {RunningBroker} b @param {Record<string, any>} o
 */
const idleCount = (b, o) => String(Math.min(Number(o.connections), b.pid ? connectionHeadroom(b.pid) : Infinity));
const mqttIdle = (/** @type {string} */ subscriptions) => (/** @type {RunningBroker} */ b, /** @type {Record<string, any>} */ o) => b.pid === null ? null : [
  join(REPO, 'bench', 'mqtt', 'idle-connections.mjs'), '--url', /** @type {string} */ (b.urls.mqtt), '--label', b.label, '--pid', String(b.pid),
  '--connections', idleCount(b, o), '--subscriptions', subscriptions, ...(b.gcSignal ? ['--gc-signal'] : []),
];

/** @type {Row[]} the comparison table, in its order */
const ROWS = [
  { id: 'amqp-transient', protocol: 'amqp', title: 'AMQP 1 → 1 queue → 1 consumer, manual acks', args: amqpScenario('transient'), metrics: [rate('msg/s', (r) => r.msgs_per_s), p50], targets: [more('rabbitmq', 1.5)] },
  { id: 'amqp-confirms', protocol: 'amqp', title: 'AMQP persistent + publisher confirms, durable queue', args: amqpScenario('confirms'), metrics: [rate('msg/s', (r) => r.msgs_per_s), p50], targets: [more('rabbitmq', 1.5)] },
  { id: 'amqp-fanout', protocol: 'amqp', title: 'AMQP fanout to 4 queues', args: amqpScenario('fanout'), metrics: [rate('deliveries/s', (r) => r.deliveries_per_s ?? r.msgs_per_s), p50], targets: [more('rabbitmq', 1.5)] },
  { id: 'amqp-topic', protocol: 'amqp', title: 'AMQP topic exchange, 1,000 bindings', args: amqpScenario('topic'), metrics: [rate('msg/s', (r) => r.msgs_per_s), p50], targets: [more('rabbitmq', 3)] },
  {
    id: 'amqp-rpc-1', protocol: 'amqp', title: 'AMQP RPC over direct reply-to, 1 in flight',
    args: (b, o) => [join(REPO, 'bench', 'rpc.mjs'), '--url', /** @type {string} */ (b.urls.amqp), '--label', b.label, '--inflight', '1', '--seconds', o.seconds, '--warmup', o.warmup],
    metrics: [p50, rate('round trips/s', (r) => r.round_trips_per_s)],
    targets: [{ against: 'rabbitmq', ratio: 1, metric: 0, text: 'p50 ≤ rabbitmq' }],
  },
  {
    id: 'amqp-rpc-32', protocol: 'amqp', title: 'AMQP RPC, 32 in flight',
    args: (b, o) => [join(REPO, 'bench', 'rpc.mjs'), '--url', /** @type {string} */ (b.urls.amqp), '--label', b.label, '--inflight', '32', '--seconds', o.seconds, '--warmup', o.warmup],
    metrics: [rate('round trips/s', (r) => r.round_trips_per_s), p50],
    targets: [more('rabbitmq', 1.5)],
  },
  {
    id: 'amqp-priority', protocol: 'amqp', title: 'AMQP priority queue (10 levels)',
    args: (b, o) => [join(REPO, 'bench', 'priority.mjs'), '--url', /** @type {string} */ (b.urls.amqp), '--label', b.label, '--seconds', o.seconds, '--warmup', o.warmup],
    metrics: [rate('msg/s', (r) => r.msgs_per_s), p50],
    targets: [more('rabbitmq', 1.5)],
  },
  { id: 'mqtt-qos0', protocol: 'mqtt', title: 'MQTT QoS 0, 4 publishers → 1 subscriber', args: mqttFlow('fan-in', 0), metrics: [rate('msg/s', (r) => r.msgs_per_s), p50], targets: [more('aedes', 1.2)] },
  { id: 'mqtt-qos1', protocol: 'mqtt', title: 'MQTT QoS 1, 4 publishers → 1 subscriber', args: mqttFlow('fan-in', 1), metrics: [rate('msg/s', (r) => r.msgs_per_s), p50], targets: [more('aedes', 1.2)] },
  { id: 'mqtt-fanout', protocol: 'mqtt', title: 'MQTT fan-out 1 → 50 subscribers, QoS 0', args: mqttFlow('fan-out', 0), metrics: [rate('deliveries/s', (r) => r.msgs_per_s), p50], targets: [more('aedes', 1.2)] },
  {
    id: 'stomp', protocol: 'stomp', title: 'STOMP send/subscribe, ack per message',
    args: (b, o) => [join(REPO, 'bench', 'scenarios', 'stomp.mjs'), '--url', /** @type {string} */ (b.urls.stomp), '--label', b.label, '--seconds', o.seconds, '--warmup', o.warmup, ...(b.pid ? ['--broker-pid', String(b.pid)] : [])],
    metrics: [rate('msg/s', (r) => r.msgs_per_s), p50],
    targets: [more('rabbitmq', 1.5)],
  },
  {
    id: 'amqp-idle', protocol: 'amqp', title: 'RSS per idle AMQP connection (one channel each)',
    args: (b, o) => b.pid === null ? null : [join(REPO, 'bench', 'amqp-idle-connections.mjs'), '--url', /** @type {string} */ (b.urls.amqp), '--label', b.label, '--pid', String(b.pid), '--connections', idleCount(b, o), ...(b.gcSignal ? ['--gc-signal'] : [])],
    metrics: [kib],
    targets: [{ against: 'rabbitmq', ratio: 1, metric: 0, text: '≤ rabbitmq' }],
  },
  { id: 'mqtt-idle', protocol: 'mqtt', title: 'RSS per idle MQTT connection (one QoS 1 subscription each)', args: mqttIdle('1'), metrics: [kib], targets: [{ against: 'aedes', ratio: 1, metric: 0, text: '≤ aedes' }] },
  { id: 'mqtt-idle-bare', protocol: 'mqtt', title: 'RSS per idle MQTT connection (CONNECT only)', args: mqttIdle('0'), metrics: [kib], targets: [{ against: 'aedes', ratio: 1, metric: 0, text: '≤ aedes' }] },
];

const HELP = `usage: node bench/all.mjs [options]   (npm run bench:all -- [options])

  --repeat n            rounds; the table shows medians (default 1)
  --seconds s           measured seconds per throughput run (default 10)
  --warmup s            warm-up seconds before measuring (default 1)
  --connections n       idle connections for the memory rows (default 1000)
  --only a,b            scenario ids to run (default all: ${ROWS.map((r) => r.id).join(', ')})
  --brokers a,b         brokers to use among warren, rabbitmq, mosquitto, aedes (default: all found)
  --build dir           a compiled Warren (default: tsc into node_modules/.cache/warren-bench-build)
  --rabbitmq-amqp url   (default amqp://guest:guest@127.0.0.1:5672 when it answers; 'none' to skip)
  --rabbitmq-stomp url  (default stomp://guest:guest@127.0.0.1:61613 when it answers)
  --rabbitmq-mqtt url   (default mqtt://guest:guest@127.0.0.1:1883 when it answers)
  --rabbitmq-pid pid    RabbitMQ's beam.smp (default: pgrep -x beam.smp when there is one)
  --mosquitto path      the mosquitto binary (default /usr/sbin/mosquitto when present)
  --aedes-dir dir       where Aedes was installed: npm install --prefix <dir> aedes
                        (default $AEDES_DIR, else /work/aedes-bench when present)
  --wait-idle s         before each run, wait up to s seconds for a quiet machine (default 30)
  --out file            JSON lines (default bench/results/all-<date-time>.jsonl)`;

/** A machine using less than this many cores (brokers idling) counts as quiet. */
const QUIET_CORES = 0.3;

/** @param {number} maxMs @returns {Promise<number | null>} cores busy at the last look */
async function waitForQuiet(maxMs) {
  if (maxMs <= 0) return null;
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  for (;;) {
    const busy = await sampleHostBusyCores(1000);
    if (busy === null) return null;
    quiet = busy < QUIET_CORES ? quiet + 1 : 0;
    if (quiet >= 2 || Date.now() >= deadline) return busy;
  }
}

/**
 * @param {string[]} args node arguments (script first) @param {number} timeoutMs
 * @returns {Promise<Record<string, any>>} the script's JSON line, or a failure line
 */
function runScript(args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        try {
          return resolve(JSON.parse(line));
        } catch {
          // a failure line below
        }
      }
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      resolve({ ok: false, errors: [`no result (exit ${code}, signal ${signal})${tail ? `: ${tail}` : ''}`] });
    });
  });
}

/** @param {number | null} v @param {number} decimals */
const fmt = (v, decimals) => (v === null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }));

/**
 * @param {Row[]} rows @param {string[]} labels @param {Map<string, Record<string, any>[]>} results by `${row.id}/${label}`
 * @returns {string} the Markdown table
 */
function table(rows, labels, results) {
  const others = labels.filter((l) => l !== 'warren');
  const header = ['scenario', 'metric', ...labels, ...others.map((l) => `warren ÷ ${l}`), 'target', 'met?'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];
  /** @type {string[]} */
  const notes = [];
  for (const row of rows) {
    row.metrics.forEach((metric, m) => {
      /** @type {Map<string, number | null>} */
      const values = new Map();
      const cells = labels.map((label) => {
        const runs = results.get(`${row.id}/${label}`) ?? [];
        const ok = runs.filter((r) => r.ok);
        if (m === 0) for (const r of runs.filter((x) => !x.ok)) notes.push(`- ${row.id} on ${label} FAILED: ${(r.errors ?? [r.error ?? 'no result']).join('; ')}`);
        const v = median(ok.map(metric.pick));
        values.set(label, v);
        if (runs.length === 0) return '';
        return ok.length === 0 ? 'FAILED' : fmt(v, metric.decimals);
      });
      const w = values.get('warren') ?? null;
      const ratios = others.map((l) => {
        const v = values.get(l) ?? null;
        return w === null || v === null || v === 0 ? '' : (w / v).toFixed(2);
      });
      const targets = row.targets.filter((t) => t.metric === m);
      const verdicts = targets.map((t) => {
        const v = values.get(t.against) ?? null;
        if (w === null || v === null || v === 0) return 'not measured';
        const ratio = w / v;
        return (metric.lower ? ratio <= t.ratio : ratio >= t.ratio) ? 'yes' : 'NO';
      });
      lines.push(`| ${[m === 0 ? row.title : '', metric.name, ...cells, ...ratios, targets.map((t) => t.text).join('; '), verdicts.join('; ')].join(' | ')} |`);
    });
  }
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

async function main() {
  const { values: o } = parseArgs({
    options: {
      repeat: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1000' },
      only: { type: 'string' },
      brokers: { type: 'string' },
      build: { type: 'string' },
      'rabbitmq-amqp': { type: 'string' },
      'rabbitmq-stomp': { type: 'string' },
      'rabbitmq-mqtt': { type: 'string' },
      'rabbitmq-pid': { type: 'string' },
      mosquitto: { type: 'string' },
      'aedes-dir': { type: 'string' },
      'wait-idle': { type: 'string', default: '30' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (o.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const repeat = Number(o.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const only = o.only ? new Set(o.only.split(',')) : null;
  for (const id of only ?? []) if (!ROWS.some((r) => r.id === id)) throw new Error(`unknown scenario '${id}'`);
  const rows = ROWS.filter((r) => !only || only.has(r.id));
  const wanted = o.brokers ? new Set(o.brokers.split(',')) : null;

  const kinds = [
    warren(warrenBuild(o.build)),
    await rabbitmq({ amqp: o['rabbitmq-amqp'], stomp: o['rabbitmq-stomp'], mqtt: o['rabbitmq-mqtt'], pid: o['rabbitmq-pid'] }),
    mosquitto(o.mosquitto),
    aedes(o['aedes-dir']),
  ].filter((k) => k !== null && (!wanted || wanted.has(k.label)));
  const brokers = /** @type {import('./lib/brokers.mjs').BrokerKind[]} */ (kinds);
  for (const b of brokers) process.stderr.write(`[bench] ${b.label}: ${b.note}; ${b.protocols.join(', ')}\n`);

  const out = o.out ?? join(REPO, 'bench', 'results', `all-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.jsonl`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, '');
  const waitMs = Number(o['wait-idle']) * 1000;
  const timeoutMs = (Number(o.seconds) + Number(o.warmup) + 180) * 1000;

  /** @type {Map<string, Record<string, any>[]>} */
  const results = new Map();
  for (let round = 1; round <= repeat; round++) {
    // alternate the order each round, so that neither broker always runs after the other
    const order = round % 2 === 1 ? brokers : [...brokers].reverse();
    // memory first: RabbitMQ runs throughout, and memory its allocators keep from the
    // throughput runs would be reused by the idle connections and hide their cost
    for (const row of [...rows.filter((r) => r.id.includes('idle')), ...rows.filter((r) => !r.id.includes('idle'))]) {
      for (const kind of order) {
        if (!kind.protocols.includes(row.protocol)) continue;
        /** @type {Record<string, any>} */
        let result;
        let broker = null;
        try {
          broker = await kind.start(row.protocol);
          const args = row.args(broker, o);
          if (args === null) continue; // e.g. a memory row without the broker's pid
          const busy = await waitForQuiet(waitMs);
          process.stderr.write(`[bench] round ${round}/${repeat}: ${row.id} on ${kind.label}${busy !== null && busy >= QUIET_CORES ? ` (machine busy: ${busy} cores)` : ''} …\n`);
          result = await runScript(args, timeoutMs);
          if (busy !== null) result.busy_before_cores = busy;
        } catch (err) {
          result = { ok: false, errors: [`${kind.label}: ${/** @type {Error} */ (err).message}`] };
        } finally {
          await broker?.stop();
        }
        Object.assign(result, { row: row.id, label: kind.label, round });
        const key = `${row.id}/${kind.label}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        const line = JSON.stringify(result);
        process.stdout.write(`${line}\n`);
        appendFileSync(out, `${line}\n`);
      }
    }
  }
  const labels = ['warren', 'rabbitmq', 'mosquitto', 'aedes'].filter((l) => brokers.some((b) => b.label === l));
  process.stdout.write(`\n${table(rows, labels, results)}\n\n(${repeat} round${repeat > 1 ? 's' : ''}, ${o.seconds} s measured per throughput run; JSON lines in ${out})\n`);
  return [...results.values()].flat().every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`bench: ${err.message}\n\n${HELP}\n`);
    process.exitCode = 2;
  },
);
