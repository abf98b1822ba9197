/**
 * The frameworks people put on a broker, run against Warren and RabbitMQ in one sitting:
 * Celery (tasks with results over rpc://, without results, groups), pika BlockingConnection
 * workers with basic_qos(1) and prefetch 50, an amqplib work queue with prefetch(10), and an
 * RPC client/server pair with pika and with amqplib. Rounds alternate which broker goes first;
 * the table shows medians. One JSON line per run goes to stdout and to `--out`.
 *
 *   node bench/frameworks.mjs [--rounds 3] [--only celery-pipelined,pika-qos1,…]
 *        [--warren-build dir] [--management] [--rabbitmq-url amqp://… --rabbitmq-pid N]
 *
 * Warren: bench/warren-server.mjs, fresh for the sitting (with --management, the management
 * plugin too, as `npm start` runs it). RabbitMQ: a private node of Debian's rabbitmq-server
 * (bench/lib/rabbitmq-node.mjs), fresh for the sitting, unless --rabbitmq-url is given.
 * The clients come from Debian (python3-celery, python3-pika: installed here with apt-get when
 * missing and running as root) and amqplib from the project's dev dependencies; none of them is
 * a dependency of Warren.
 *
 * CPU per run: the broker's process and the client processes' trees (Celery's prefork
 * children included), from /proc, over the measured interval. A row is broker-bound when the
 * broker's CPU over the run approaches one core (Warren's event loop is one thread).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, warren, warrenBuild } from './lib/brokers.mjs';
import { startRabbitmqNode } from './lib/rabbitmq-node.mjs';
import { median } from './lib/table.mjs';
import { celeryWorker, hostTicks, runWorkload, treeCpuSeconds, WORKLOADS } from './frameworks/workloads.mjs';

const { values: o } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string' },
    'warren-build': { type: 'string' },
    management: { type: 'boolean', default: false },
    'rabbitmq-url': { type: 'string' },
    'rabbitmq-pid': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  process.stdout.write(`node bench/frameworks.mjs [--rounds N] [--only ${Object.keys(WORKLOADS).join(',')}]\n  [--warren-build dir] [--management] [--rabbitmq-url URL --rabbitmq-pid PID] [--out file.jsonl]\n`);
  process.exit(0);
}

ensureDebianPackages();
const only = o.only ? o.only.split(',') : Object.keys(WORKLOADS);
for (const w of only) if (!(w in WORKLOADS)) throw new Error(`unknown workload ${w}; known: ${Object.keys(WORKLOADS).join(', ')}`);
const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 16);
const out = o.out ?? join(REPO, 'bench', 'results', `frameworks-${stamp}.jsonl`);
mkdirSync(join(out, '..'), { recursive: true });

const build = warrenBuild(o['warren-build']);
const brokers = await startBrokers();
const workDir = mkdtempSync(join(tmpdir(), 'warren-frameworks-'));
/** @type {any[]} */
const results = [];
try {
  const rounds = Number(o.rounds);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? brokers : [...brokers].reverse();
    // Celery workers for the round, one per broker, started before any workload runs
    const workers = new Map();
    if (only.some((w) => WORKLOADS[w].celery)) {
      for (const b of order) workers.set(b.label, await celeryWorker(b.url, join(workDir, `${b.label}-${round}`)));
    }
    try {
      for (const name of only) {
        for (const b of order) {
          const line = await measure(name, b, round, workers.get(b.label));
          results.push(line);
          const text = JSON.stringify(line);
          process.stdout.write(`${text}\n`);
          appendFileSync(out, `${text}\n`);
        }
      }
    } finally {
      for (const w of workers.values()) await w.stop();
    }
  }
} finally {
  for (const b of brokers) await b.stop();
  rmSync(workDir, { recursive: true, force: true });
}
process.stdout.write(`\n${table(results)}\n(${o.rounds} rounds; JSON lines in ${out})\n`);
process.exit(0);

/** One workload against one broker: its figure, CPU of broker and clients, the host's load. */
async function measure(name, broker, round, worker) {
  const w = WORKLOADS[name];
  const host0 = hostTicks();
  const broker0 = treeCpuSeconds(broker.pid, false);
  const worker0 = worker ? worker.cpuSeconds() : 0;
  const started = performance.now();
  let r;
  try {
    r = await runWorkload(name, broker.url, { workDir, round, worker });
  } catch (e) {
    r = { error: String(/** @type {Error} */ (e).message ?? e).slice(0, 500) };
  }
  const wall = (performance.now() - started) / 1000;
  const host1 = hostTicks();
  const brokerCpu = treeCpuSeconds(broker.pid, false) - broker0;
  const clientsCpu = (r.clientsCpu ?? 0) + (worker ? worker.cpuSeconds() - worker0 : 0);
  return {
    ...r,
    workload: name,
    broker: broker.label,
    round,
    clientsCpu: round3(clientsCpu),
    wall_s: round3(wall),
    broker_cpu_s: round3(brokerCpu),
    broker_cores: round3(brokerCpu / wall),
    clients_cores: round3(clientsCpu / wall),
    host_busy_cores: host0 && host1 ? round3(((host1.busy - host0.busy) / (host1.total - host0.total)) * host1.cores) : null,
    loadavg_1m: round3(loadavg()[0]),
    warren_management: broker.label === 'warren' ? o.management : undefined,
    at: new Date().toISOString(),
  };
}

async function startBrokers() {
  const w = await warren(build).start(o.management ? /** @type {any} */ ('amqp,management') : 'amqp');
  const list = [{ label: 'warren', url: /** @type {string} */ (w.urls.amqp), pid: w.pid, stop: w.stop }];
  if (o['rabbitmq-url']) {
    list.push({ label: 'rabbitmq', url: o['rabbitmq-url'], pid: o['rabbitmq-pid'] ? Number(o['rabbitmq-pid']) : null, stop: async () => undefined });
  } else {
    const r = await startRabbitmqNode('frameworks');
    process.stderr.write(`[frameworks] RabbitMQ ${r.version} node at ${r.url}, pid ${r.pid}\n`);
    list.push({ label: 'rabbitmq', url: r.url, pid: r.pid, stop: r.stop });
  }
  return list;
}

function ensureDebianPackages() {
  const missing = [];
  if (!pythonHas('celery')) missing.push('python3-celery');
  if (!pythonHas('pika')) missing.push('python3-pika');
  if (!o['rabbitmq-url'] && !existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) missing.push('rabbitmq-server');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages (install them: apt-get install ${missing.join(' ')})`);
  process.stderr.write(`[frameworks] apt-get install ${missing.join(' ')}\n`);
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function pythonHas(module) {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function table(rows) {
  const lines = ['| workload | metric | warren | rabbitmq | warren ÷ rabbitmq (> 1: Warren ahead) | broker CPU s, warren / rabbitmq | clients CPU s, warren / rabbitmq |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const name of only) {
    const w = WORKLOADS[name];
    const pick = (label, key) => median(rows.filter((r) => r.workload === name && r.broker === label && r.value !== undefined).map((r) => r[key]));
    const wv = pick('warren', 'value');
    const rv = pick('rabbitmq', 'value');
    const ratio = wv && rv ? (w.higherIsBetter ? wv / rv : rv / wv) : NaN;
    const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
    lines.push(`| ${w.title} | ${w.metric} | ${f(wv)} | ${f(rv)} | ${f(ratio)} | ${f(pick('warren', 'broker_cpu_s'))} / ${f(pick('rabbitmq', 'broker_cpu_s'))} | ${f(pick('warren', 'clientsCpu'))} / ${f(pick('rabbitmq', 'clientsCpu'))} |`);
  }
  return lines.join('\n');
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}
