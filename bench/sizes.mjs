/**
 * Message-size sweep, Warren beside RabbitMQ in one sitting: one amqplib publisher with
 * publisher confirms and one amqplib consumer (manual acks), each in a process of its own
 * (`--clients split`; `--clients one` runs both in the bench's process, as before
 * 2026-12-07 14:00: one JavaScript thread then capped 256 KiB runs near 2,000 msg/s whatever
 * the broker), on a durable queue, persistent
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
 * stamps are in the body (epoch ms from performance.timeOrigin: one clock for both processes).
 *
 *   node bench/sizes.mjs [--build dir] [--sizes 16,1024,16384,65536,262144,1048576]
 *        [--seconds 5] [--rounds 2] [--kinds persistent,transient] [--brokers warren,rabbitmq] [--clients split|one]
 *        (`--brokers warren@dirA,warren@dirB` compares two Warren builds, alternating)
 *        [--cpu-prof 65536,1048576 --prof-dir dir] [--label x] [--out bench/results/sizes-<date>.jsonl]
 *        [--warren-node-args='--max-semi-space-size=32'] (node flags for the Warren processes; with
 *        the `=`: a separate value starting with `--` is refused)
 *
 * `--warren-node-args=--require=<abs path>/bench/lib/gc-count-preload.cjs` with BENCH_GC_COUNT_OUT
 * set counts each Warren process's garbage collections by kind (scavenge or mark-compact).
 *
 * With --cpu-prof, the Warren runs of those sizes run with node's
 * --cpu-prof and write their profile into --prof-dir; `node bench/sizes.mjs --summarize f`
 * prints the functions with the most self time in a .cpuprofile.
 */
import { fork, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { REPO, stopChild, warrenBuild } from './lib/brokers.mjs';
import { rabbitmqInstalled, startRabbitmqNode } from './lib/rabbitmq-node.mjs';
import { epochNow, startConsumer } from './lib/sizes-consumer.mjs';

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
    clients: { type: 'string', default: 'split' },
    'no-launcher-flags': { type: 'boolean', default: false },
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
  // as `npm start` and bin/warren run it (--no-launcher-flags: without)
  const launcher = args['no-launcher-flags'] ? [] : ['--initial-old-space-size=128'];
  const nodeArgs = ['--expose-gc', ...launcher, ...String(args['warren-node-args']).split(' ').filter(Boolean)];
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

/** User and system CPU time (ms) and minor page faults of a process so far, from /proc/<pid>/stat. */
function cpuSplit(/** @type {number} */ pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10, minflt: Number(fields[7]) };
  } catch {
    return { user: NaN, system: NaN, minflt: NaN };
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
 * The consumer of a run: in a process of its own (`--clients split`) or in this one (`one`).
 * @returns {Promise<{ window(from: number, to: number): void, drain(expected: number): Promise<{ consumed: number, consumedTotal: number, p50: number | null, p99: number | null, cpuMicros: number }> }>}
 */
async function consumerFor(/** @type {string} */ url, /** @type {string} */ queue, /** @type {number} */ prefetch) {
  if (args.clients === 'one') return startConsumer(url, queue, prefetch);
  const child = fork(join(REPO, 'bench', 'lib', 'sizes-consumer.mjs'), [url, queue, String(prefetch)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  /** @type {((m: any) => void) | null} */
  let onStats = null;
  await new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`the consumer exited with ${code}`)));
    child.on('message', (/** @type {any} */ m) => {
      if (m.ready) res(undefined);
      if (m.stats) onStats?.(m.stats);
    });
  });
  return {
    window: (from, to) => child.send({ window: [from, to] }),
    drain: (expected) =>
      new Promise((res) => {
        onStats = res;
        child.send({ drain: expected });
      }),
  };
}

/**
 * One run: publish with confirms for `seconds`, consume and ack, measure what was consumed
 * after a one-second warm-up. @returns the figures and the clients' CPU (µs, both processes)
 */
async function run(/** @type {string} */ url, /** @type {number} */ size, /** @type {boolean} */ persistent) {
  const queue = `sizes-${size}-${persistent ? 'p' : 't'}-${process.pid}`;
  const pubConn = await amqp.connect(url);
  const pub = await pubConn.createConfirmChannel();
  await pub.assertQueue(queue, { durable: persistent, autoDelete: false });
  await pub.purgeQueue(queue);
  const windowCount = Math.max(2, Math.min(Number(args.window), Math.floor(Number(args['window-bytes']) / size)));
  const consumer = await consumerFor(url, queue, windowCount);
  const cpuBefore = process.cpuUsage();
  const template = Buffer.alloc(size, 0x61);
  let inFlight = 0;
  let published = 0;
  let failed = 0;
  /** @type {(() => void) | null} */
  let wake = null;
  const started = epochNow();
  const measuredFrom = started + 1000;
  const stopAt = measuredFrom + seconds * 1000;
  consumer.window(measuredFrom, stopAt);
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
    if (epochNow() >= stopAt) break;
    if (inFlight >= windowCount) {
      await new Promise((r) => (wake = /** @type {() => void} */ (r)));
      continue;
    }
    const body = size >= 8 ? Buffer.from(template) : Buffer.alloc(8);
    body.writeDoubleLE(epochNow(), 0);
    inFlight++;
    published++;
    const ok = pub.publish('', queue, body, { persistent }, confirmed);
    if (!ok) await new Promise((r) => pub.once('drain', r));
  }
  const elapsed = (stopAt - measuredFrom) / 1000;
  while (inFlight > 0) await new Promise((r) => (wake = /** @type {() => void} */ (r)));
  // what was published is consumed before the queue goes (the CPU figure covers all of it)
  const stats = await consumer.drain(published - failed);
  const pubCpu = process.cpuUsage(cpuBefore);
  await pub.deleteQueue(queue).catch(() => undefined);
  await pub.close().catch(() => undefined);
  await pubConn.close().catch(() => undefined);
  // one process: the publisher's figure already holds the consumer's CPU
  const clientMicros = pubCpu.user + pubCpu.system + (args.clients === 'one' ? 0 : stats.cpuMicros);
  return {
    result: { consumed_total: stats.consumedTotal, msg_per_s: Math.round(stats.consumed / elapsed), mib_per_s: Math.round(((stats.consumed * size) / elapsed / 1048576) * 10) / 10, p50_ms: stats.p50, p99_ms: stats.p99, published, nacked: failed, window: windowCount, clients: String(args.clients) },
    clientMicros,
  };
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
            const splitBefore = cpuSplit(target.pid);
            const diskBefore = diskWriteBytes(target.pid);
            const { result: ran, peakKiB } = await peakRss(target.pid, () => run(target.url, size, persistent));
            const result = ran.result;
            const cpuUsed = cpuMs(target.pid) - cpuBefore;
            const splitAfter = cpuSplit(target.pid);
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
              // the clients' CPU (amqplib publisher and consumer) per message: the cores are
              // shared, so what the clients take the broker cannot have
              client_cpu_us_per_msg: Math.round(ran.clientMicros / Math.max(1, result.consumed_total)),
              // the broker's CPU split into user and kernel time, and its minor page faults per message
              // (fresh memory the kernel maps and zeroes: body and read buffers malloc'd anew)
              cpu_user_us_per_msg: Math.round(((splitAfter.user - splitBefore.user) * 1000) / Math.max(1, result.consumed_total)),
              cpu_sys_us_per_msg: Math.round(((splitAfter.system - splitBefore.system) * 1000) / Math.max(1, result.consumed_total)),
              minflt_per_msg: Math.round(((splitAfter.minflt - splitBefore.minflt) * 10) / Math.max(1, result.consumed_total)) / 10,
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
