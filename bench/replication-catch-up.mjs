/**
 * Follower catch-up rate after a node was down: a leader (Broker + ReplicationLeader) and a
 * follower in sync (a first backlog of --seed-mb MiB copied), the follower stopped — the node
 * is down — while --mb MiB of persistent messages (half to a durable classic queue, half to a
 * stream) are published with confirms; then the follower starts again on its own data dir,
 * reports what it holds, and the time from its start to its first ack of the live stream
 * ('caught-up') gives MB/s of the backlog it missed. `--from empty` measures a new node's full
 * copy instead (no seed, an empty data dir). With --load, a publisher keeps publishing with
 * confirms during the catch-up (the live stream is kept aside meanwhile, as in production).
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/warren-build
 *   node bench/replication-catch-up.mjs --build /tmp/warren-build [--mb 1024] [--seed-mb 64]
 *        [--from down|empty] [--size 65536] [--load] [--out bench/results/replication-catch-up-<date>.jsonl]
 *
 * Prints progress on stderr, one JSON line on stdout (and appended to --out): the backlog
 * missed (leader's bytes on disk now minus at the stop), what the catch-up sent, files,
 * catch-up seconds, MB/s, load average at the start. Leader and follower run in this one
 * process on one disk (both directories under --dir, default the OS temp dir): the figure is
 * what one machine's disk gives to reading one copy and writing another.
 */
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    'seed-mb': { type: 'string', default: '64' },
    from: { type: 'string', default: 'down' },
    size: { type: 'string', default: '65536' },
    load: { type: 'boolean', default: false },
    dir: { type: 'string' },
    build: { type: 'string' },
    out: { type: 'string' },
  },
});
const build = resolve(args.build ?? process.env.WARREN_BUILD ?? join(import.meta.dirname, '..', 'dist'));
const mod = (p) => import(pathToFileURL(join(build, 'src', p)).href);
const { Broker } = await mod('broker.js');
const { ReplicationLeader, ReplicationFollower } = await mod('cluster/replication/index.js');

const root = mkdtempSync(join(args.dir ?? tmpdir(), 'warren-repl-bench-'));
const leaderDir = join(root, 'leader');
const followerDir = join(root, 'follower');
const secret = 'bench-secret';
const log = (m) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

/** Bytes and files under `dir` (recursively). */
function du(dir) {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const d = du(p);
      bytes += d.bytes;
      files += d.files;
    } else {
      bytes += statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

async function publish(url, bytes, size, until = () => false) {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('bench-classic', { durable: true });
  await ch.assertQueue('bench-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  const body = Buffer.alloc(size, 7);
  let sent = 0;
  for (let i = 0; sent < bytes && !until(); i++) {
    ch.sendToQueue(i % 2 === 0 ? 'bench-classic' : 'bench-stream', body, { persistent: true });
    sent += size;
    if (i % 64 === 63) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
  return sent;
}

if (args.from !== 'down' && args.from !== 'empty') throw new Error('--from: down or empty');
/** the leader's figures for the last catch-up (its 'replication follower caught up' log line) */
let lastCatchUp = { bytes: 0, millis: 0, passes: 0 };
const leaderLog = { warn: () => undefined, info: (m, d) => m === 'replication follower caught up' && (lastCatchUp = d) };
const leader = new ReplicationLeader({ dataDir: leaderDir, nodeId: 'leader', epoch: 1, secret, host: '127.0.0.1', port: 0, minIsr: 1, log: leaderLog });
const address = await leader.listen();
const broker = new Broker({ dataDir: leaderDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } }, { ...leader.hooks });
await broker.start();
const a = broker.address('amqp');
const url = `amqp://guest:guest@${a.host}:${a.port}`;
const target = Number(args.mb) * 1024 * 1024;
const size = Number(args.size);
const startFollower = async () => {
  const f = new ReplicationFollower({ dataDir: followerDir, nodeId: 'follower', secret, epoch: 1, leader: address });
  const caughtUp = new Promise((r) => f.once('caught-up', r));
  await f.start();
  return { f, caughtUp };
};
try {
  let before = { bytes: 0, files: 0 };
  if (args.from === 'down') {
    // in sync first, with a backlog of its own, then down
    const { f, caughtUp } = await startFollower();
    await caughtUp;
    await publish(url, Number(args['seed-mb']) * 1024 * 1024, size);
    await new Promise((r) => setTimeout(r, 500));
    await f.stop();
    before = du(leaderDir);
    log(`follower in sync with ${(before.bytes / 1048576).toFixed(0)} MiB, then stopped (down)`);
  }
  log(`filling ${args.mb} MiB backlog with ${size}-byte messages`);
  const t0 = performance.now();
  await publish(url, target, size);
  const fillSeconds = (performance.now() - t0) / 1000;
  const now = du(leaderDir);
  const backlog = { bytes: now.bytes - before.bytes, files: now.files };
  log(`backlog missed: ${(backlog.bytes / 1048576).toFixed(0)} MiB (${now.files} files on the leader), filled in ${fillSeconds.toFixed(1)} s`);

  const load = loadavg()[0];
  let stopLoad = false;
  const loadRun = args.load ? publish(url, Number.MAX_SAFE_INTEGER, 4096, () => stopLoad) : Promise.resolve(0);
  const t1 = performance.now();
  const { f: follower, caughtUp } = await startFollower();
  await caughtUp;
  const seconds = (performance.now() - t1) / 1000;
  stopLoad = true;
  const liveBytes = await loadRun;
  await follower.stop();
  const copied = du(followerDir);
  const result = {
    bench: 'replication-catch-up',
    command: `node bench/replication-catch-up.mjs ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    from: args.from,
    backlogBytes: backlog.bytes,
    sentBytes: lastCatchUp.bytes,
    catchUpPasses: lastCatchUp.passes,
    files: backlog.files,
    followerBytes: copied.bytes,
    seconds: Number(seconds.toFixed(2)),
    mbPerSecond: Number((backlog.bytes / 1048576 / seconds).toFixed(1)),
    messageSize: size,
    concurrentLoad: args.load,
    liveBytesDuringCatchUp: liveBytes,
    fillSeconds: Number(fillSeconds.toFixed(1)),
    loadAverage: Number(load.toFixed(2)),
  };
  log(`caught up in ${seconds.toFixed(2)} s: ${result.mbPerSecond} MiB/s`);
  const line = JSON.stringify(result);
  console.log(line);
  if (args.out) appendFileSync(args.out, `${line}\n`);
} finally {
  await broker.stop();
  await leader.close();
  rmSync(root, { recursive: true, force: true });
}
