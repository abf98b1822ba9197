/**
 * Deep backlog (bounded memory for deep queues): --mb megabytes of persistent
 * messages (--size bytes each) published with confirms to one durable queue that nobody
 * consumes, while the broker's RSS (VmRSS of /proc/<pid>/status) is sampled every 250 ms;
 * then one consumer takes them all, checking their order, still sampled. The queue keeps a
 * window of 4,096 messages / 16 MiB in memory and the rest on disk (src/core/queues/queue-pager.ts).
 *
 *   npm run build && node bench/broker-backlog.mjs [--mb 5120] [--size 1024] [--max-rss-mb 400]
 *        [--window 1000] [--build DIR] [--dir DIR]
 *
 * The broker is the real `warren start`. With --url (and --pid for its RSS) the same load runs
 * against a broker already running, e.g. RabbitMQ, for comparison. stdout: one JSON line;
 * exit status 1 when the RSS went over --max-rss-mb, or a message was lost, nacked or out of order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { consume, deleteQueue, publish, queueDepth } from './broker-load.mjs';
import { dirUsage, loadBuild, mib, rssMiB, startBroker } from './broker-process.mjs';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '5120' },
    size: { type: 'string', default: '1024' },
    'max-rss-mb': { type: 'string', default: '400' },
    window: { type: 'string', default: '1000' },
    url: { type: 'string' },
    pid: { type: 'string' },
    label: { type: 'string' },
    build: { type: 'string' },
    dir: { type: 'string' },
  },
});

const external = args.url !== undefined;
const size = Number(args.size);
const total = Math.ceil((Number(args.mb) * 1024 * 1024) / size);
const dataDir = external ? '' : (args.dir ?? mkdtempSync(join(tmpdir(), 'warren-broker-backlog-')));
const QUEUE = `backlog.${process.pid}`;

const broker = external ? null : startBroker({ build: await loadBuild(args.build), dataDir });
const url = broker ? (await broker.started).url : String(args.url);
const pid = broker ? broker.pid : Number(args.pid ?? 0);
const baseRss = rssMiB(pid);

/** RSS samples of the current phase */
const phase = { name: 'fill', max: 0, sum: 0, n: 0 };
/** @type {Record<string, { max: number, mean: number }>} */
const phases = {};
const sampler = setInterval(() => {
  const r = rssMiB(pid);
  if (Number.isNaN(r)) return;
  phase.max = Math.max(phase.max, r);
  phase.sum += r;
  phase.n++;
}, 250);
const endPhase = (/** @type {string} */ next) => {
  phases[phase.name] = { max: Math.round(phase.max), mean: Math.round(phase.sum / Math.max(1, phase.n)) };
  Object.assign(phase, { name: next, max: 0, sum: 0, n: 0 });
};

const pub = await publish(url, {
  routes: [{ queue: QUEUE, stream: 1 }],
  count: total,
  size,
  window: Number(args.window),
  onProgress: (n) => n % 500_000 === 0 && process.stderr.write(`${n} confirmed, RSS ${Math.round(rssMiB(pid))} MiB\n`),
});
const depth = await queueDepth(url, QUEUE);
const disk = external ? NaN : dirUsage(dataDir).bytes;
endPhase('consume');

const consumer = await consume(url, QUEUE, { prefetch: 1000, ackEvery: 100 });
await consumer.until(total, 120_000);
const consumeSeconds = (consumer.state.lastAt - consumer.state.firstAt) / 1000;
await consumer.close();
endPhase('done');
clearInterval(sampler);
if (broker) await broker.stop();
else await deleteQueue(url, QUEUE);
if (broker && !args.dir) rmSync(dataDir, { recursive: true, force: true });

const maxRss = Math.max(phases.fill.max, phases.consume.max);
const summary = {
  bench: 'broker-backlog',
  label: args.label ?? (external ? url.replace(/\/\/[^@]*@/, '//') : 'warren'),
  size,
  messages: total,
  user_mb: mib(pub.bytes),
  confirmed: pub.confirmed,
  nacked: pub.nacked,
  queued: depth,
  disk_mb: mib(disk),
  publish_msgs_per_s: Math.round(pub.confirmed / pub.seconds),
  publish_seconds: Math.round(pub.seconds),
  consumed: consumer.state.received,
  out_of_order: consumer.state.outOfOrder,
  consume_msgs_per_s: Math.round(consumer.state.received / Math.max(consumeSeconds, 0.001)),
  consume_seconds: Math.round(consumeSeconds),
  rss_mib: pid ? { start: Math.round(baseRss), fill: phases.fill, consume: phases.consume, max: maxRss } : null,
  max_rss_mb_allowed: Number(args['max-rss-mb']),
  ok: pub.confirmed === total && depth === total && consumer.state.received === total && consumer.state.outOfOrder === 0 && (!pid || maxRss < Number(args['max-rss-mb'])),
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
