/**
 * What the confirm rule costs: persistent publishes with confirms to one durable classic queue
 * on a single Warren node, then on a leader whose confirms wait for one follower (minIsr 2: the
 * follower's fdatasync and ack are in every confirm), alternating in one sitting. The follower
 * runs in its own process; etcd plays no part (roles are explicit).
 *
 *   npx tsc -p tsconfig.json --outDir node_modules/.cache/warren-bench-build
 *   node bench/replication-confirm.mjs --build node_modules/.cache/warren-bench-build
 *        [--seconds 5] [--inflight 1,100] [--size 512] [--rounds 2] [--out bench/results/….jsonl]
 *
 * One JSON line per (setup, in-flight, round): msg/s and confirm latency p50/p99 (ms); a table
 * on stderr at the end.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '5' },
    inflight: { type: 'string', default: '1,100' },
    size: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '2' },
    build: { type: 'string' },
    out: { type: 'string' },
    follower: { type: 'boolean', default: false },
  },
});
const build = resolve(args.build ?? process.env.WARREN_BUILD ?? join(import.meta.dirname, '..', 'dist'));
const mod = (p) => import(pathToFileURL(join(build, 'src', p)).href);
const SECRET = 'bench-secret';

if (args.follower) {
  // child mode: positionals = dataDir host port
  const { ReplicationFollower } = await mod('cluster/replication/index.js');
  const [dataDir, host, port] = positionals;
  const f = new ReplicationFollower({ dataDir, nodeId: 'follower', secret: SECRET, epoch: 1, leader: { host, port: Number(port) } });
  process.on('SIGTERM', () => void f.stop().then(() => process.exit(0)));
  await f.start();
} else {
  await main();
}

async function startNode(replicated, root) {
  const { Broker } = await mod('broker.js');
  const dataDir = join(root, replicated ? 'leader' : 'single');
  let leader = null;
  let child = null;
  const setup = {};
  if (replicated) {
    const { ReplicationLeader } = await mod('cluster/replication/index.js');
    leader = new ReplicationLeader({ dataDir, nodeId: 'leader', epoch: 1, secret: SECRET, host: '127.0.0.1', port: 0, minIsr: 2 });
    const address = await leader.listen();
    Object.assign(setup, leader.hooks);
    const caughtUp = new Promise((r) => leader.once('caught-up', r));
    child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--follower', '--build', build, join(root, 'follower'), address.host, String(address.port)], { stdio: 'inherit' });
    await caughtUp;
    leader.setIsr(['follower']);
  }
  const broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } }, setup);
  await broker.start();
  const a = broker.address('amqp');
  return {
    url: `amqp://guest:guest@${a.host}:${a.port}`,
    stop: async () => {
      await broker.stop();
      if (leader) await leader.close();
      if (child) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

async function measure(url, inflight, seconds, size) {
  const conn = await amqp.connect(url, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  const q = `confirm-bench-${inflight}`;
  await ch.assertQueue(q, { durable: true });
  await ch.purgeQueue(q);
  const body = Buffer.alloc(size, 1);
  const latencies = [];
  let outstanding = 0;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await new Promise((resolveRun) => {
    const pump = () => {
      while (outstanding < inflight && performance.now() < end) {
        const t0 = performance.now();
        outstanding++;
        ch.sendToQueue(q, body, { persistent: true }, (err) => {
          outstanding--;
          if (err) throw new Error('nacked');
          latencies.push(performance.now() - t0);
          done++;
          if (performance.now() < end) pump();
          else if (outstanding === 0) resolveRun();
        });
      }
    };
    pump();
  });
  await ch.purgeQueue(q);
  await conn.close();
  latencies.sort((x, y) => x - y);
  const pct = (p) => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2));
  return { msgPerSecond: Math.round(done / seconds), p50Ms: pct(0.5), p99Ms: pct(0.99), messages: done };
}

async function main() {
  const seconds = Number(args.seconds);
  const size = Number(args.size);
  const rows = [];
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const setup of ['single', 'replicated']) {
      const root = mkdtempSync(join(tmpdir(), 'warren-confirm-bench-'));
      const node = await startNode(setup === 'replicated', root);
      try {
        for (const inflight of args.inflight.split(',').map(Number)) {
          const r = await measure(node.url, inflight, seconds, size);
          const row = { bench: 'replication-confirm', date: new Date().toISOString(), setup, inflight, size, round, seconds, ...r, loadAverage: Number(loadavg()[0].toFixed(2)) };
          rows.push(row);
          console.log(JSON.stringify(row));
          if (args.out) appendFileSync(args.out, `${JSON.stringify(row)}\n`);
        }
      } finally {
        await node.stop();
        rmSync(root, { recursive: true, force: true });
      }
    }
  }
  process.stderr.write('setup       in-flight   msg/s   p50 ms   p99 ms\n');
  for (const r of rows) process.stderr.write(`${r.setup.padEnd(12)}${String(r.inflight).padStart(9)}${String(r.msgPerSecond).padStart(8)}${String(r.p50Ms).padStart(9)}${String(r.p99Ms).padStart(9)}\n`);
}
