/**
 * Message-size sweep, Warren beside RabbitMQ in one sitting: one amqplib publisher with
 * publisher confirms and one amqplib consumer (manual acks) on a durable queue, persistent
 * messages (delivery mode 2) and, for comparison, transient ones to a non-durable queue.
 * Bodies of 16 B … 1 MiB. Per run: consumed msg/s, p50/p99 publish→deliver latency, peak
 * RSS of the broker process (VmRSS sampled every 50 ms during the run).
 *
 * Each size is run `--rounds` times per broker and kind, the brokers alternating (so ratios
 * come from one sitting). Warren is started fresh for every run from a compiled build (a new
 * data directory each time); RabbitMQ is a private node (bench/lib/rabbitmq-node.mjs) started
 * once per size, its queue deleted between runs.
 *
 * The publisher keeps at most `--window` unconfirmed messages and at most `--window-bytes`
 * of unconfirmed body bytes (the smaller); the consumer's prefetch is the same count. Time
 * stamps are in the body (same process, same clock).
 *
 *   node bench/sizes.mjs [--build dir] [--sizes 16,1024,16384,65536,262144,1048576]
 *        [--seconds 5] [--rounds 2] [--kinds persistent,transient] [--brokers warren,rabbitmq]
 *        (`--brokers warren@dirA,warren@dirB` compares two Warren builds, alternating)
 *        [--cpu-prof 65536,1048576 --prof-dir dir] [--label x] [--out bench/results/sizes-<date>.jsonl]
 *        [--warren-node-args '--max-semi-space-size=32'] (node flags for the Warren processes)
 *
 * With --cpu-prof, the Warren runs of those sizes run with node's
 * --cpu-prof and write their profile into --prof-dir; `node bench/sizes.mjs --summarize f`
 * prints the functions with the most self time in a .cpuprofile.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { REPO, stopChild, warrenBuild } from './lib/brokers.mjs';
import { rabbitmqInstalled, startRabbitmqNode } from './lib/rabbitmq-node.mjs';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string' },
    sizes: { type: 'string', default: '16,1024,16384,65536,262144,1048576' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    kinds: { type: 'string', default: 'persistent,transient' },
    brokers: { type: 'string', default: 'warren,rabbitmq' },
    window: { type: 'string', default: '500' },
    'window-bytes': { type: 'string', default: String(32 << 20) },
    'cpu-prof': { type: 'string', default: '' },
    'prof-dir': { type: 'string', default: join(tmpdir(), 'warren-sizes-prof') },
    label: { type: 'string', default: '' },
    'warren-node-args': { type: 'string', default: '' },
    out: { type: 'string' },
    summarize: { type: 'string' },
  },
});

if (args.summarize) {
  summarize(String(args.summarize));
  process.exit(0);
}

const sizes = String(args.sizes).split(',').map(Number);
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const kinds = String(args.kinds).split(',');
const brokers = String(args.brokers).split(',');
const profSizes = new Set(String(args['cpu-prof']).split(',').filter(Boolean).map(Number));
const out = args.out ?? join(REPO, 'bench', 'results', `sizes-${new Date().toISOString().slice(0, 10)}.jsonl`);
const build = brokers.includes('warren') ? warrenBuild(args.build) : '';
/** @returns the build a broker entry names: `warren` (the --build one) or `warren@<dir>` */
const buildOf = (/** @type {string} */ broker) => (broker.startsWith('warren@') ? resolve(broker.slice(7)) : build);
if (brokers.includes('rabbitmq') && !rabbitmqInstalled()) throw new Error('RabbitMQ is not installed (/usr/lib/rabbitmq/bin/rabbitmq-server)');

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Warren in its own process (bench/warren-server.mjs), optionally profiled. */
async function startWarren(/** @type {string} */ dir, /** @type {boolean} */ profile) {
  const nodeArgs = ['--expose-gc', ...String(args['warren-node-args']).split(' ').filter(Boolean)];
  if (profile) {
    mkdirSync(String(args['prof-dir']), { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', String(args['prof-dir']));
  }
  const child = spawn(process.execPath, [...nodeArgs, join(REPO, 'bench', 'warren-server.mjs'), '--build', dir, '--protocols', 'amqp'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((res, rej) => {
    let text = '';
    const timer = setTimeout(() => rej(new Error(`Warren did not start: ${text}`)), 30_000);
    child.stdout.on('data', (d) => {
      text += d;
      const m = /ready (\{.*\})/.exec(text);
      if (m) {
        clearTimeout(timer);
        res(JSON.parse(m[1]).amqp);
      }
    });
    child.once('exit', (code) => rej(new Error(`Warren exited with ${code}: ${text}`)));
  });
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, pid: /** @type {number} */ (child.pid), stop: () => stopChild(child) };
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat. */
function cpuMs(/** @type {number} */ pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

/** Bytes a process (all its threads) sent to the storage layer so far, from /proc/<pid>/io `write_bytes`. */
function diskWriteBytes(/** @type {number} */ pid) {
  try {
    return Number(/write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
  } catch {
    return NaN;
  }
}

/** Peak VmRSS (KiB) of `pid` while `during` runs. */
async function peakRss(/** @type {number} */ pid, /** @type {() => Promise<any>} */ during) {
  let peak = 0;
  const read = () => {
    try {
      const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (kib > peak) peak = kib;
    } catch {
      // gone
    }
  };
  read();
  const timer = setInterval(read, 50);
  try {
    const result = await during();
    return { result, peakKiB: peak };
  } finally {
    clearInterval(timer);
    read();
  }
}

/**
 * One run: publish with confirms for `seconds`, consume and ack, measure what was consumed
 * after a one-second warm-up.
 */
async function run(/** @type {string} */ url, /** @type {number} */ size, /** @type {boolean} */ persistent) {
  const queue = `sizes-${size}-${persistent ? 'p' : 't'}-${process.pid}`;
  const pubConn = await amqp.connect(url);
  const subConn = await amqp.connect(url);
  const pub = await pubConn.createConfirmChannel();
  const sub = await subConn.createChannel();
  await pub.assertQueue(queue, { durable: persistent, autoDelete: false });
  await pub.purgeQueue(queue);
  const windowCount = Math.max(2, Math.min(Number(args.window), Math.floor(Number(args['window-bytes']) / size)));
  await sub.prefetch(windowCount);
  const template = Buffer.alloc(size, 0x61);
  const latencies = [];
  let consumed = 0;
  let consumedTotal = 0;
  let measuredFrom = 0;
  let stopAt = 0;
  let measuring = false;
  await sub.consume(queue, (msg) => {
    if (!msg) return;
    const now = performance.now();
    consumedTotal++;
    if (msg.content.length >= 8 && measuring) {
      latencies.push(now - msg.content.readDoubleLE(0));
      consumed++;
    }
    sub.ack(msg);
  });
  let inFlight = 0;
  let published = 0;
  let failed = 0;
  /** @type {(() => void) | null} */
  let wake = null;
  const started = performance.now();
  measuredFrom = started + 1000;
  stopAt = measuredFrom + seconds * 1000;
  const confirmed = (/** @type {any} */ err) => {
    if (err) failed++;
    inFlight--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  for (;;) {
    const now = performance.now();
    if (!measuring && now >= measuredFrom) measuring = true;
    if (now >= stopAt) break;
    if (inFlight >= windowCount) {
      await new Promise((r) => (wake = /** @type {() => void} */ (r)));
      continue;
    }
    const body = size >= 8 ? Buffer.from(template) : Buffer.alloc(8);
    body.writeDoubleLE(performance.now(), 0);
    inFlight++;
    published++;
    const ok = pub.publish('', queue, body, { persistent }, confirmed);
    if (!ok) await new Promise((r) => pub.once('drain', r));
  }
  measuring = false;
  const elapsed = (stopAt - measuredFrom) / 1000;
  while (inFlight > 0) await new Promise((r) => (wake = /** @type {() => void} */ (r)));
  // what was published is consumed before the queue goes (the CPU figure covers all of it)
  for (let waited = 0; consumedTotal < published - failed && waited < 30_000; waited += 20) await sleep(20);
  await sub.close().catch(() => undefined);
  await pub.deleteQueue(queue).catch(() => undefined);
  await pub.close().catch(() => undefined);
  await pubConn.close().catch(() => undefined);
  await subConn.close().catch(() => undefined);
  latencies.sort((a, b) => a - b);
  const q = (/** @type {number} */ p) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 10) / 10 : null);
  return { consumed_total: consumedTotal, msg_per_s: Math.round(consumed / elapsed), mib_per_s: Math.round(((consumed * size) / elapsed / 1048576) * 10) / 10, p50_ms: q(0.5), p99_ms: q(0.99), published, nacked: failed, window: windowCount };
}

const sitting = new Date().toISOString();
for (const size of sizes) {
  const rabbit = brokers.includes('rabbitmq') ? await startRabbitmqNode('warrensizes') : null;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const kind of kinds) {
        for (const broker of brokers) {
          const persistent = kind === 'persistent';
          const isWarren = broker.startsWith('warren');
          const profile = isWarren && profSizes.has(size);
          const target = isWarren ? await startWarren(buildOf(broker), profile) : { url: /** @type {any} */ (rabbit).url, pid: /** @type {any} */ (rabbit).pid, stop: async () => undefined };
          try {
            const cpuBefore = cpuMs(target.pid);
            const clientBefore = process.cpuUsage();
            const diskBefore = diskWriteBytes(target.pid);
            const { result, peakKiB } = await peakRss(target.pid, () => run(target.url, size, persistent));
            const cpuUsed = cpuMs(target.pid) - cpuBefore;
            const clientUsed = process.cpuUsage(clientBefore);
            const diskWritten = diskWriteBytes(target.pid) - diskBefore;
            const row = {
              bench: 'sizes',
              sitting,
              time: new Date().toISOString(),
              label: String(args.label),
              broker: isWarren ? 'warren' : broker,
              version: broker === 'rabbitmq' ? /** @type {any} */ (rabbit).version : buildOf(broker),
              kind,
              size,
              round,
              seconds,
              ...result,
              peak_rss_mib: Math.round(peakKiB / 102.4) / 10,
              // broker CPU per message over the whole run (warm-up included): steadier than msg/s on a shared machine
              cpu_us_per_msg: Math.round((cpuUsed * 1000) / Math.max(1, result.consumed_total)),
              // the bench's own CPU (amqplib publisher and consumer, one process) per message: the
              // two cores are shared, so what the clients take the broker cannot have
              client_cpu_us_per_msg: Math.round((clientUsed.user + clientUsed.system) / Math.max(1, result.consumed_total)),
              // bytes the broker process sent to the disk per message (journal, message store; warm-up included)
              disk_bytes_per_msg: Math.round(diskWritten / Math.max(1, result.consumed_total)),
              profiled: profile,
            };
            process.stdout.write(`${JSON.stringify(row)}\n`);
            appendFileSync(out, `${JSON.stringify(row)}\n`);
          } finally {
            await target.stop();
          }
          await sleep(300);
        }
      }
    }
  } finally {
    await rabbit?.stop();
  }
}
if (profSizes.size > 0) process.stderr.write(`profiles in ${args['prof-dir']}: ${readdirSync(String(args['prof-dir'])).join(', ')}\n`);

/** Print the 25 functions with the most self time in a .cpuprofile (a text flame graph's leaves). */
function summarize(/** @type {string} */ file) {
  const prof = JSON.parse(readFileSync(resolve(file), 'utf8'));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byName = new Map();
  let total = 0;
  for (const n of prof.nodes) {
    const t = dt.get(n.id) ?? 0;
    total += t;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|plugins|node:)/, '$1')}:${f.lineNumber + 1}`;
    byName.set(key, (byName.get(key) ?? 0) + t);
  }
  const rows = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [k, t] of rows) process.stdout.write(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}\n`);
}
