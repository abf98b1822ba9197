#!/usr/bin/env node
/**
 * Warren three nodes (three etcd members) vs Warren one node vs a RabbitMQ 3.10 three-node
 * cluster, all on this machine, in one sitting: persistent publishes with confirms (amqplib)
 * to quorum queues (`x-queue-type: quorum` on both brokers), 1 and 10 queues, 1 and 100
 * messages in flight per publisher; msg/s and confirm latency p50/p99.
 *
 *   node bench/cluster-compare.mjs [--seconds 10] [--rounds 2] [--queues 1,10] [--inflight 1,100]
 *        [--size 512] [--systems warren3,warren1,rabbitmq3] [--loaded] [--no-build]
 *        [--cpu-prof DIR]   (Warren processes write V8 CPU profiles there; stopped by SIGTERM)
 *        [--build DIR]      (an existing tsconfig.bench.json build, not compiled again: A/B of two trees)
 *
 * Each round starts every system fresh, measures every (queues, in-flight) pair on it, stops
 * it, and goes on to the next system (the order rotates each round), so no idle broker sits on
 * the CPUs while another is measured. One publisher (its own connection and confirm channel)
 * per queue, each keeping `inflight` unconfirmed messages; a 1 s warm-up is not counted.
 * Warren's publishers connect to the leader (as a client forwarded by a standby ends up), and
 * every follower is in the in-sync set first, so every confirm waits for both followers'
 * fdatasync; RabbitMQ's publishers connect to node 0, where client-local placement puts every
 * quorum queue's leader (each queue a Raft group on all three nodes: checked).
 *
 * It compiles the tree and the cluster harness (tsconfig.bench.json) first. One JSON line per
 * (system, queues, in-flight, round) to bench/results/cluster-<date>[-loaded].jsonl; a table on
 * stderr at the end (medians over rounds).
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { freePort, reachable } from './lib/brokers.mjs';
import { startRabbitmqCluster } from './lib/rabbitmq-cluster.mjs';

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    queues: { type: 'string', default: '1,10' },
    inflight: { type: 'string', default: '1,100' },
    size: { type: 'string', default: '512' },
    systems: { type: 'string', default: 'warren3,warren1,rabbitmq3' },
    loaded: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    build: { type: 'string' },
  },
});
const log = (line) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
const buildDir = args.build ? resolve(args.build) : join(root, 'node_modules', '.cache', 'warren-jepsen-build');
if (!args['no-build'] && !args.build) {
  log(`building into ${buildDir} …`);
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], { cwd: root, stdio: 'inherit' });
}
const cliPath = join(buildDir, 'src', 'cli.js');
const { EtcdCluster } = await import(join(buildDir, 'test', 'helpers', 'etcd-cluster.js'));
const { WarrenCluster } = await import(join(buildDir, 'test', 'helpers', 'warren-cluster.js'));

const QUORUM = { 'x-queue-type': 'quorum' };
// Node refuses --cpu-prof in NODE_OPTIONS: a preload does the same for the spawned nodes
const profiling = args['cpu-prof'] ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, 'lib', 'cpu-profile-preload.cjs')}`, BENCH_CPU_PROFILE_DIR: resolve(args['cpu-prof']) } : {};
const loadBefore = loadavg()[0];
const date = new Date().toISOString().slice(0, 10);
const loaded = args.loaded || loadBefore > 1.5;
const out = args.out ?? join(root, 'bench', 'results', `cluster-${date}${loaded ? '-loaded' : ''}.jsonl`);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const command = `node bench/cluster-compare.mjs ${process.argv.slice(2).join(' ')}`.trim();

/** @type {Record<string, () => Promise<{ url: string, check?: (queue: string) => Promise<void>, stop: () => Promise<void> }>>} */
const systems = {
  async warren3() {
    const etcd = await EtcdCluster.start();
    let cluster;
    try {
      // the product's lease and watchdog defaults, not the tests' short ones
      cluster = await WarrenCluster.start({ cliPath, etcdEndpoints: etcd.endpoints, leaseTtl: '10s', watchdogTimeout: '8s', env: { WARREN_LOG_LEVEL: 'warn', ...profiling } });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const isr = await cluster.isr();
        if (isr && isr.members.length === 3) break;
        if (Date.now() > deadline) throw new Error(`followers not in sync: ${JSON.stringify(isr)}\n${cluster.outputs()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (e) {
      await cluster?.close();
      await etcd.close();
      throw e;
    }
    const leader = await cluster.waitForLeader();
    log(`warren3: leader ${leader.node.id} epoch ${leader.epoch}, ISR of 3`);
    return {
      url: cluster.amqpUrl(leader.node.index),
      async check() {
        const isr = await cluster.isr();
        if (!isr || isr.members.length !== 3) throw new Error(`ISR shrank during the run: ${JSON.stringify(isr)}`);
      },
      async stop() {
        // a graceful stop writes the profiles: followers first, so none takes over
        if (args['cpu-prof']) for (const n of [...cluster.nodes].sort((a, b) => (a === leader.node ? 1 : 0) - (b === leader.node ? 1 : 0))) await cluster.stop(n.index);
        await cluster.close();
        await etcd.close();
      },
    };
  },
  async warren1() {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-cluster-bench-single-'));
    const [port, mqtt, mqttWs, stomp, stompWs, management] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = {
      PATH: process.env.PATH ?? '', HOME: dataDir, WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'warn',
      WARREN_AMQP_HOST: '127.0.0.1', WARREN_AMQP_PORT: String(port),
      WARREN_MQTT_HOST: '127.0.0.1', WARREN_MQTT_PORT: String(mqtt), WARREN_MQTT_WS_PORT: String(mqttWs),
      WARREN_STOMP_HOST: '127.0.0.1', WARREN_STOMP_PORT: String(stomp), WARREN_STOMP_WS_PORT: String(stompWs),
      WARREN_MANAGEMENT_HOST: '127.0.0.1', WARREN_MANAGEMENT_PORT: String(management),
      WARREN_PLUGINS_KAFKA_ENABLED: 'false',
      ...profiling,
    };
    const child = spawn(process.execPath, [cliPath, 'start'], { cwd: dataDir, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const killAtExit = () => child.kill('SIGKILL');
    process.on('exit', killAtExit);
    const deadline = Date.now() + 60_000;
    while (!(await reachable('127.0.0.1', port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('warren1 did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    return {
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      async stop() {
        const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
        child.kill('SIGTERM');
        await exited;
        process.off('exit', killAtExit);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  async rabbitmq3() {
    const c = await startRabbitmqCluster({ log });
    log(`rabbitmq3: ${c.version}, nodes ${c.nodes.join(' ')}`);
    return {
      url: c.urls[0],
      async check(queue) {
        const rows = JSON.parse(await c.ctl(0, 'list_queues', 'name', 'type', 'members', '--formatter', 'json'));
        const q = rows.find((r) => r.name === queue);
        if (!q || q.type !== 'quorum' || q.members.length !== 3) throw new Error(`not a quorum queue on 3 nodes: ${JSON.stringify(q)}`);
      },
      stop: () => c.stop(),
    };
  },
};

/** One publisher per queue, each keeping `inflight` confirms outstanding for `seconds` after a 1 s warm-up. */
async function measure(system, queues, inflight, seconds, size) {
  const body = Buffer.alloc(size, 0x61);
  const names = Array.from({ length: queues }, (_, i) => `cluster-bench-${queues}q-${inflight}f-${i}`);
  const pubs = await Promise.all(names.map(async (name) => {
    const conn = await amqp.connect(system.url, { noDelay: true });
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(name, { durable: true, arguments: QUORUM });
    return { name, conn, ch };
  }));
  await system.check?.(names[0]);
  const latencies = [];
  let counted = 0;
  const start = performance.now();
  const from = start + 1000;
  const end = from + seconds * 1000;
  await Promise.all(pubs.map((p) => new Promise((resolveRun, rejectRun) => {
    let outstanding = 0;
    const pump = () => {
      while (outstanding < inflight && performance.now() < end) {
        const t0 = performance.now();
        outstanding++;
        p.ch.sendToQueue(p.name, body, { persistent: true }, (err) => {
          outstanding--;
          if (err) return rejectRun(new Error(`nacked on ${p.name}`));
          const t1 = performance.now();
          if (t0 >= from && t1 <= end) {
            latencies.push(t1 - t0);
            counted++;
          }
          if (t1 < end) pump();
          else if (outstanding === 0) resolveRun();
        });
      }
    };
    pump();
  })));
  await system.check?.(names[0]);
  for (const p of pubs) {
    await p.ch.deleteQueue(p.name);
    await p.conn.close();
  }
  latencies.sort((x, y) => x - y);
  const pct = (q) => Number((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN).toFixed(2));
  return { msgPerSecond: Math.round(counted / seconds), p50Ms: pct(0.5), p99Ms: pct(0.99), messages: counted };
}

const seconds = Number(args.seconds);
const size = Number(args.size);
const queueCounts = args.queues.split(',').map(Number);
const inflights = args.inflight.split(',').map(Number);
const order = args.systems.split(',');
for (const s of order) if (!systems[s]) throw new Error(`unknown system ${s} (warren3, warren1, rabbitmq3)`);
const rows = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  const turn = order.map((_, i) => order[(i + round - 1) % order.length]);
  for (const name of turn) {
    log(`round ${round}: starting ${name}`);
    const system = await systems[name]();
    try {
      for (const queues of queueCounts) {
        for (const inflight of inflights) {
          const r = await measure(system, queues, inflight, seconds, size);
          const row = { bench: 'cluster-compare', at: new Date().toISOString(), command, system: name, queues, inflight, size, round, seconds, ...r, loadAverage: Number(loadavg()[0].toFixed(2)) };
          rows.push(row);
          appendFileSync(out, `${JSON.stringify(row)}\n`);
          log(`${name} queues=${queues} inflight=${inflight}: ${r.msgPerSecond} msg/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (load ${row.loadAverage})`);
        }
      }
    } finally {
      await system.stop();
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
process.stderr.write(`\nmedians over ${args.rounds} round(s), ${size} B persistent, confirms; results in ${out}\n`);
process.stderr.write('queues  in-flight  system       msg/s    p50 ms   p99 ms   vs rabbitmq3  vs warren1\n');
for (const queues of queueCounts) {
  for (const inflight of inflights) {
    const of = (s) => rows.filter((r) => r.system === s && r.queues === queues && r.inflight === inflight);
    const rate = (s) => (of(s).length ? median(of(s).map((r) => r.msgPerSecond)) : NaN);
    for (const s of order) {
      const rs = of(s);
      if (!rs.length) continue;
      const m = rate(s);
      process.stderr.write(`${String(queues).padStart(6)}${String(inflight).padStart(11)}  ${s.padEnd(10)}${String(Math.round(m)).padStart(8)}${median(rs.map((r) => r.p50Ms)).toFixed(2).padStart(10)}${median(rs.map((r) => r.p99Ms)).toFixed(1).padStart(9)}${(m / rate('rabbitmq3')).toFixed(2).padStart(14)}${(m / rate('warren1')).toFixed(2).padStart(12)}\n`);
    }
  }
}
