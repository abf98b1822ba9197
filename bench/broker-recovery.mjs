/**
 * Recovery time (docs/performance.md): --messages persistent messages
 * queued (confirmed) in one durable queue, then the broker is restarted --repeat times after
 * a clean stop (SIGTERM: the store writes its snapshot) and --repeat times after kill -9
 * (every segment is scanned). Each restart is timed from spawning `node <build>/src/cli.js
 * start` to its 'broker started' line, and the 'vhost recovered' line gives the store's part;
 * the RSS is sampled during each start. An empty broker's start is timed too: the cost of
 * Node and the modules, which any restart pays. Finally the queue is consumed and checked
 * for count and order.
 *
 *   npm run build && node bench/broker-recovery.mjs [--messages 1000000] [--size 1024]
 *        [--repeat 3] [--build DIR] [--dir DIR]
 *
 * stdout: one JSON line; exit status 1 when a restart lost or reordered a message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { consume, publish, queueDepth } from './broker-load.mjs';
import { dirUsage, loadBuild, mib, rssMiB, startBroker } from './broker-process.mjs';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '1024' },
    repeat: { type: 'string', default: '3' },
    build: { type: 'string' },
    dir: { type: 'string' },
  },
});

const build = await loadBuild(args.build);
const total = Number(args.messages);
const size = Number(args.size);
const repeat = Number(args.repeat);
const dataDir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-broker-recovery-'));
const QUEUE = 'recovery';
/** @type {string[]} */
const failures = [];

/** Start on `dir`, sampling RSS every 20 ms until 'broker started'. */
async function timedStart(/** @type {string} */ dir) {
  const b = startBroker({ build, dataDir: dir });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(b.pid) || 0)), 20);
  const { startMs, url } = await b.started;
  clearInterval(sampler);
  const r = b.find('vhost recovered') ?? { msg: '', level: '' };
  return { b, url, startMs: Math.round(startMs), storeMs: r.millis, cleanShutdown: r.cleanShutdown, messages: r.messages, peakRss: Math.round(Math.max(peak, rssMiB(b.pid))) };
}

const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// an empty broker: what every start costs before the store has anything to do
const emptyDir = mkdtempSync(join(tmpdir(), 'warren-broker-recovery-empty-'));
/** @type {number[]} */
const emptyStarts = [];
for (let i = 0; i < repeat; i++) {
  const e = await timedStart(emptyDir);
  emptyStarts.push(e.startMs);
  await e.b.stop();
}
rmSync(emptyDir, { recursive: true, force: true });

let { b, url } = await timedStart(dataDir);
const pub = await publish(url, {
  routes: [{ queue: QUEUE, stream: 1 }],
  count: total,
  size,
  window: 1000,
  onProgress: (n) => n % 250_000 === 0 && process.stderr.write(`${n} confirmed\n`),
});
const disk = dirUsage(dataDir).bytes;

/** @param {'clean' | 'kill'} how */
async function restart(how) {
  if (how === 'clean') {
    const { code } = await b.stop();
    if (code !== 0) failures.push(`clean stop exited with ${code}`);
  } else await b.kill();
  const s = await timedStart(dataDir);
  b = s.b;
  url = s.url;
  const depth = await queueDepth(url, QUEUE);
  if (depth !== total) failures.push(`after a ${how} restart the queue holds ${depth} of ${total}`);
  if (s.cleanShutdown !== (how === 'clean')) failures.push(`a ${how} restart reported cleanShutdown ${s.cleanShutdown}`);
  process.stderr.write(`${how} restart: ${s.startMs} ms to 'broker started' (store ${s.storeMs} ms), peak RSS ${s.peakRss} MiB\n`);
  return s;
}

const clean = [];
for (let i = 0; i < repeat; i++) clean.push(await restart('clean'));
const killed = [];
for (let i = 0; i < repeat; i++) killed.push(await restart('kill'));

const consumer = await consume(url, QUEUE, { prefetch: 1000, ackEvery: 100 });
await consumer.until(total, 120_000);
await consumer.close();
if (consumer.state.outOfOrder > 0) failures.push(`${consumer.state.outOfOrder} messages out of order`);
await b.stop();
if (!args.dir) rmSync(dataDir, { recursive: true, force: true });

const figures = (/** @type {Awaited<ReturnType<typeof timedStart>>[]} */ runs) => ({
  start_ms: runs.map((r) => r.startMs),
  start_ms_median: median(runs.map((r) => r.startMs)),
  store_ms: runs.map((r) => r.storeMs),
  peak_rss_mib: Math.max(...runs.map((r) => r.peakRss)),
});
const summary = {
  bench: 'broker-recovery',
  messages: total,
  size,
  confirmed: pub.confirmed,
  disk_mb: mib(disk),
  empty_start_ms: emptyStarts,
  after_clean_stop: figures(clean),
  after_kill: figures(killed),
  consumed: consumer.state.received,
  out_of_order: consumer.state.outOfOrder,
  failures,
  ok: failures.length === 0 && pub.confirmed === total && consumer.state.received === total,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
