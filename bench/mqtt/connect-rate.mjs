/**
 * CONNECT/CONNACK per second, raw wire: `--generators` (4) processes
 * (bench/mqtt/connect-rate-generator.mjs), each from its own 127.0.x.y source address, open
 * `--connections` (10,000) MQTT 3.1.1 connections between them, `--window` (100) connects in
 * flight per process, and hold them until every CONNACK is in; then all are closed and the next
 * round starts (each round from new source addresses: no port is reused while in TIME_WAIT).
 * Each round reports the rate (connections / the slowest generator's time), the broker's own
 * CPU per connect (user and system, /proc over the round: what it would serve with a core of
 * its own, whatever else the machine runs) and the generators' CPU per connect (what they
 * need; on 2 cores they must fit beside the broker).
 *
 * Sessions (`--sessions clean,persistent`):
 *   clean       every round: CONNECT with clean session 1 (phase `clean`)
 *   persistent  round 1: CONNECT with clean session 0 and SUBSCRIBE idle/<id> at QoS 1 in the
 *               same write, answered by CONNACK and SUBACK (phase `new-session`); later rounds:
 *               the same devices back, CONNECT only, answered with session present (`resume`)
 *   resume      every round `resume` (a running broker, `--brokers url`, whose sessions an
 *               earlier `persistent` run made: profiling the reconnect alone)
 *
 * Brokers alternate in one sitting (`--brokers warren,mosquitto`, `--repeat`), each started
 * fresh for every sessions kind (bench/lib/brokers.mjs: Warren from a compiled build with its
 * default settings, Mosquitto with its own defaults on a free port).
 *
 *   node bench/mqtt/connect-rate.mjs [--brokers warren,mosquitto] [--sessions clean,persistent]
 *     [--connections 10000] [--rounds 4] [--generators 4] [--window 100] [--repeat 1]
 *     [--build <dir>] [--out bench/results/mqtt-connect-<date>-rate.jsonl] [--cpu-prof <dir>]
 *     [--brokers warren-before,warren,mosquitto --before-build <dir of an earlier commit's build>]
 */
import { fork, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mosquitto, stopChild, warren, warrenBuild } from '../lib/brokers.mjs';
import { CpuSampler } from '../lib/cpu-sampler.mjs';

const { values: o } = parseArgs({
  options: {
    brokers: { type: 'string', default: 'warren,mosquitto' },
    sessions: { type: 'string', default: 'clean,persistent' },
    connections: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '4' },
    generators: { type: 'string', default: '4' },
    window: { type: 'string', default: '100' },
    repeat: { type: 'string', default: '1' },
    build: { type: 'string' },
    // `--brokers warren-before,…`: Warren from this other build (an earlier commit), in the same sitting
    'before-build': { type: 'string' },
    out: { type: 'string' },
    label: { type: 'string', default: '' },
    // `--brokers url`: a broker already running at --url, its pid --pid (e.g. under perf or strace)
    url: { type: 'string' },
    pid: { type: 'string' },
    // a V8 CPU profile of the Warren broker into this directory (bench/lib/cpu-profile-preload.cjs)
    'cpu-prof': { type: 'string' },
  },
});
const n = Number(o.connections);
const generatorCount = Number(o.generators);
const rounds = Number(o.rounds);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {number} pid @returns {{ user: number, system: number }} CPU seconds so far */
function processCpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
}

/** the broker's CPU over the next `ms`, in cores */
async function brokerCores(pid, ms) {
  const a = processCpu(pid);
  await sleep(ms);
  const b = processCpu(pid);
  return (b.user + b.system - a.user - a.system) / (ms / 1000);
}

/** wait (up to 5 s) until the broker has finished with the last round's closes */
async function brokerSettled(pid) {
  for (let waited = 0; waited < 5_000; waited += 300) if ((await brokerCores(pid, 300)) < 0.1) return;
}

/** @param {import('node:child_process').ChildProcess} child @param {(m: any) => boolean} want */
const reply = (child, want) =>
  new Promise((resolve, reject) => {
    const onMessage = (/** @type {any} */ m) => {
      if (!want(m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (/** @type {number} */ code) => reject(new Error(`a generator exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });

/**
 * One round: every generator opens its share, the broker's CPU read around it.
 * @param {{ children: import('node:child_process').ChildProcess[], pid: number, port: number, round: number, clean: boolean, subscribe: boolean }} r
 */
async function round(r) {
  const share = Math.ceil(n / r.children.length);
  const load = loadavg()[0];
  const cpuBefore = processCpu(r.pid);
  const host = new CpuSampler(null);
  const answers = r.children.map((c, g) => {
    const count = Math.min(share, n - g * share);
    // a new source address each round (and generator): no port of the last round in TIME_WAIT is needed
    const local = `127.0.${1 + (r.round % 250)}.${2 + g}`;
    c.send({ cmd: 'open', host: '127.0.0.1', port: r.port, local, prefix: `rate-${g}`, first: 0, count, window: Number(o.window), clean: r.clean, subscribe: r.subscribe });
    return reply(c, (m) => 'opened' in m);
  });
  const results = await Promise.all(answers);
  const cpuAfter = processCpu(r.pid);
  const hostUse = host.finish();
  const seconds = Math.max(...results.map((x) => x.seconds));
  const opened = results.reduce((a, x) => a + x.opened, 0);
  const us = (/** @type {number} */ s) => Math.round((s * 1e6) / n);
  const user = cpuAfter.user - cpuBefore.user;
  const system = cpuAfter.system - cpuBefore.system;
  return {
    seconds,
    connect_per_s: Math.round(opened / seconds),
    broker_cpu_us_per_connect: us(user + system),
    broker_user_us_per_connect: us(user),
    broker_sys_us_per_connect: us(system),
    broker_cores: Math.round(((user + system) / seconds) * 100) / 100,
    generator_cpu_us_per_connect: Math.round(results.reduce((a, x) => a + x.cpuUs, 0) / n),
    host_busy_cores: hostUse.host_busy_cores,
    load_avg_1m: Math.round(load * 10) / 10,
    opened,
    failed: results.reduce((a, x) => a + x.failed, 0),
    session_present: results.reduce((a, x) => a + x.sessionPresent, 0),
  };
}

/** @param {import('../lib/brokers.mjs').BrokerKind} kind @param {'clean' | 'persistent' | 'resume'} sessions */
async function run(kind, sessions) {
  const profile = o['cpu-prof'] && kind.label === 'warren';
  if (profile) Object.assign(process.env, { NODE_OPTIONS: `--require ${join(import.meta.dirname, '..', 'lib', 'cpu-profile-preload.cjs')}`, BENCH_CPU_PROFILE_DIR: o['cpu-prof'] });
  const broker = await kind.start('mqtt');
  if (profile) delete process.env.NODE_OPTIONS;
  const port = Number(new URL(/** @type {string} */ (broker.urls.mqtt)).port);
  const pid = /** @type {number} */ (broker.pid);
  const children = Array.from({ length: generatorCount }, () => fork(join(import.meta.dirname, 'connect-rate-generator.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    await Promise.all(children.map((c) => reply(c, (m) => m.ready)));
    await brokerSettled(pid);
    for (let i = 0; i < rounds; i++) {
      const phase = sessions === 'clean' ? 'clean' : i === 0 && sessions === 'persistent' ? 'new-session' : 'resume';
      const r = await round({ children, pid, port, round: i + rounds * runNumber, clean: sessions === 'clean', subscribe: phase === 'new-session' });
      const line = {
        scenario: 'connect-rate',
        generator: 'raw-wire',
        label: o.label || undefined,
        broker: kind.label,
        sessions,
        phase,
        round: i + 1,
        connections: n,
        generators: generatorCount,
        window_per_generator: Number(o.window),
        ...r,
        ok: r.failed === 0 && (phase !== 'resume' || r.session_present === n),
        at: new Date().toISOString(),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      if (o.out) appendFileSync(o.out, `${JSON.stringify(line)}\n`);
      await Promise.all(children.map((c) => (c.send({ cmd: 'close' }), reply(c, (m) => m.closed))));
      await brokerSettled(pid);
    }
  } finally {
    for (const c of children) c.kill();
    await broker.stop();
  }
  runNumber++;
}

let runNumber = 0;
const build = o.brokers.includes('warren') ? warrenBuild(o.build) : '';
/** @type {Record<string, () => import('../lib/brokers.mjs').BrokerKind | null>} */
const kinds = {
  warren: () => warren(build, { defaults: true }),
  'warren-before': () => ({ ...warren(/** @type {string} */ (o['before-build']), { defaults: true }), label: 'warren-before' }), mosquitto: () => mosquitto(undefined, { defaults: true }), floor: nodeFloor, url: running };

/** @returns {import('../lib/brokers.mjs').BrokerKind} the broker at --url (pid --pid), not started or stopped here */
function running() {
  const broker = { label: 'at-url', urls: { mqtt: o.url }, pid: Number(o.pid), gcSignal: false, stop: async () => undefined };
  return { label: 'at-url', protocols: ['mqtt'], note: `${o.url}, pid ${o.pid}`, start: async () => broker };
}

/**
 * `floor`: not a broker, a bare net.Server answering each connection's first read with a canned
 * CONNACK (bench/mqtt/floor-server.mjs): what accepting a socket and writing once costs any
 * Node.js broker, the part of Warren's CPU per connect that is not its own.
 * @returns {import('../lib/brokers.mjs').BrokerKind}
 */
function nodeFloor() {
  return {
    label: 'node-floor',
    protocols: ['mqtt'],
    note: 'bench/mqtt/floor-server.mjs',
    async start() {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'floor-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const port = await new Promise((resolve, reject) => {
        child.stdout.on('data', (d) => {
          const m = /ready \{"mqtt":(\d+)\}/.exec(String(d));
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', () => reject(new Error('floor-server exited')));
      });
      return { label: 'node-floor', urls: { mqtt: `mqtt://127.0.0.1:${port}` }, pid: child.pid ?? null, gcSignal: false, stop: () => stopChild(child) };
    },
  };
}
for (let rep = 0; rep < Number(o.repeat); rep++) {
  for (const sessions of /** @type {('clean' | 'persistent' | 'resume')[]} */ (o.sessions.split(','))) {
    for (const name of o.brokers.split(',')) {
      const kind = kinds[name]?.();
      if (!kind) throw new Error(`no broker ${name}`);
      await run(kind, sessions);
    }
  }
}
