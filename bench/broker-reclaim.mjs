/**
 * Reclaim (disk space given back): push --mb megabytes of persistent messages through the broker
 * and consume them all; the data directory must shrink back near its empty size. Two queues
 * are consumed as they fill; a third, 'reclaim.slow', gets one message in 20 and is consumed
 * only after publishing ends, so the journal's old segments stay mostly dead but not empty
 * (the case compaction exists for: copy the live records forward, delete the segment).
 *
 * Reported: throughput, peak and final disk use, how long the directory took to shrink,
 * write amplification from the store's own metrics (journal + compaction bytes ÷ user bytes)
 * and from the kernel (/proc/<pid>/io write_bytes ÷ user bytes: SQLite, snapshots and index
 * spill included), segments created/deleted, compaction bytes, peak RSS.
 *
 *   npm run build && node bench/broker-reclaim.mjs [--mb 3000] [--size 4096]
 *        [--segment-size BYTES (default: the broker's)] [--settle-seconds 60] [--wait-rollover]
 *        [--build DIR] [--dir DIR]
 *
 * The broker runs as bench/broker-host.mjs (the same Broker as `warren start`) so that the
 * bench can read its store metrics. Exit status 1 when the directory did not shrink back to
 * within --slack-mb (default: two segments + 1 MiB) of its size before the run within
 * --settle-seconds, or a message was lost or out of order. The active segment is only rolled
 * (and its garbage deleted) after 30 s without appends: --wait-rollover keeps polling, up to
 * --settle-seconds, until the directory is within 1 MiB of its empty size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { consume, publish } from './broker-load.mjs';
import { loadBuild, diskWriteBytes, dirUsage, mib, rssMiB, sleep, startBroker } from './broker-process.mjs';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '3000' },
    size: { type: 'string', default: '4096' },
    'segment-size': { type: 'string' },
    'settle-seconds': { type: 'string', default: '60' },
    'slack-mb': { type: 'string' },
    'wait-rollover': { type: 'boolean', default: false },
    window: { type: 'string', default: '1000' },
    build: { type: 'string' },
    dir: { type: 'string' },
  },
});

const build = await loadBuild(args.build);
const size = Number(args.size);
const total = Math.ceil((Number(args.mb) * 1024 * 1024) / size);
const dataDir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-broker-reclaim-'));
/** @type {Record<string, string>} */
const env = {};
if (args['segment-size']) env.WARREN_STORE_SEGMENT_SIZE = String(args['segment-size']);

const broker = startBroker({ build, dataDir, mode: 'host', env });
const { url } = await broker.started;
const segmentSize = Number(args['segment-size'] ?? 16 * 1024 * 1024);
const slack = args['slack-mb'] ? Number(args['slack-mb']) * 1048576 : 2 * segmentSize + 1048576;

// every 20th message goes to the slow queue: 19 of 20 to the two live queues
const routes = [];
for (let i = 0; i < 20; i++) routes.push({ queue: i === 19 ? 'reclaim.slow' : `reclaim.q${i % 2}`, stream: i === 19 ? 2 : i % 2 });
const perQueue = { 'reclaim.q0': 0, 'reclaim.q1': 0, 'reclaim.slow': 0 };
for (let i = 0; i < total; i++) perQueue[/** @type {keyof typeof perQueue} */ (routes[i % 20].queue)]++;

// the empty size: the directory of a started broker with the queues declared
const live = [await consume(url, 'reclaim.q0'), await consume(url, 'reclaim.q1')];
const emptyBytes = dirUsage(dataDir).bytes;
const writesBefore = diskWriteBytes(broker.pid);

const peak = { disk: 0, rss: 0 };
const sampler = setInterval(() => {
  peak.disk = Math.max(peak.disk, dirUsage(dataDir).bytes);
  peak.rss = Math.max(peak.rss, rssMiB(broker.pid));
}, 250);

const t0 = performance.now();
const pub = await publish(url, {
  routes,
  count: total,
  size,
  window: Number(args.window),
  onProgress: (n) => n % 100_000 === 0 && process.stderr.write(`${n} confirmed, disk ${mib(dirUsage(dataDir).bytes)} MiB\n`),
});
await live[0].until(perQueue['reclaim.q0']);
await live[1].until(perQueue['reclaim.q1']);
const slowConsumer = await consume(url, 'reclaim.slow');
await slowConsumer.until(perQueue['reclaim.slow']);
const consumedAt = performance.now();
for (const c of [...live, slowConsumer]) await c.close();
const afterDrain = dirUsage(dataDir).bytes;

// reclaim runs every second and an idle active segment is rolled after 30 s: poll
const settleDeadline = Date.now() + Number(args['settle-seconds']) * 1000;
let finalBytes = afterDrain;
/** seconds from the last consume to within the slack, and to within 1 MiB (with --wait-rollover) */
let withinSlack = NaN;
let nearEmpty = NaN;
while (Date.now() < settleDeadline) {
  finalBytes = dirUsage(dataDir).bytes;
  const since = Math.round((performance.now() - consumedAt) / 100) / 10;
  if (Number.isNaN(withinSlack) && finalBytes <= emptyBytes + slack) withinSlack = since;
  if (finalBytes <= emptyBytes + 1048576) nearEmpty = since;
  if (!Number.isNaN(withinSlack) && (!args['wait-rollover'] || !Number.isNaN(nearEmpty))) break;
  await sleep(500);
}
clearInterval(sampler);
const m = (await broker.request('metrics')).vhosts['/'];
const osWrites = diskWriteBytes(broker.pid) - writesBefore;
await broker.stop();
if (!args.dir) rmSync(dataDir, { recursive: true, force: true });

const consumed = live[0].state.received + live[1].state.received + slowConsumer.state.received;
const outOfOrder = live[0].state.outOfOrder + live[1].state.outOfOrder + slowConsumer.state.outOfOrder;
const summary = {
  bench: 'broker-reclaim',
  size,
  segment_size: segmentSize,
  messages: total,
  user_mb: mib(pub.bytes),
  confirmed: pub.confirmed,
  consumed,
  out_of_order: outOfOrder,
  msgs_per_s: Math.round(total / ((consumedAt - t0) / 1000)),
  mb_per_s: Math.round(pub.bytes / 1048576 / ((consumedAt - t0) / 1000)),
  empty_mb: mib(emptyBytes),
  peak_disk_mb: mib(peak.disk),
  after_drain_mb: mib(afterDrain),
  final_mb: mib(finalBytes),
  within_slack_seconds: Number.isNaN(withinSlack) ? null : withinSlack,
  slack_mb: mib(slack),
  near_empty_seconds: Number.isNaN(nearEmpty) ? null : nearEmpty,
  write_amplification: Math.round(m.writeAmplification * 1000) / 1000,
  // bytes of records consumed before their round was written, left out of the journal (HOLEs):
  // written + left out is what the journal would have written without elision
  elided_mb: mib(m.elided.bytes),
  write_amplification_with_elided: Math.round(((m.journalBytesWritten + m.elided.bytes) / m.userPayloadBytes) * 1000) / 1000,
  journal_mb: mib(m.journalBytesWritten),
  compaction_mb_written: mib(m.compaction.bytesWritten),
  compaction_runs: m.compaction.runs,
  os_write_amplification: Number.isNaN(osWrites) ? null : Math.round((osWrites / pub.bytes) * 1000) / 1000,
  segments_created: m.segmentsCreated,
  segments_deleted: m.segmentsDeleted,
  fsyncs: m.fsyncs,
  peak_rss_mib: Math.round(peak.rss),
  ok: consumed === total && pub.confirmed === total && outOfOrder === 0 && !Number.isNaN(withinSlack),
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
