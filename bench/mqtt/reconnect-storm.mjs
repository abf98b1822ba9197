/**
 * A reconnect storm after a broker restart: `--connections` (10,000) MQTT 3.1.1 devices with
 * persistent sessions (clean session 0), each subscribed at QoS 1 to its own topic, go away;
 * Warren is stopped and started again on the same data directory; then every device
 * reconnects at once (from `--generators` processes on 127.0.0.2, .3, …; bench/mqtt/idle-opener.mjs).
 * Measured: the restart, CONNECT/CONNACK per second of the storm, how many CONNACKs said
 * "session present", whether a message published afterwards to `--check` (200) of the
 * devices' topics reaches them (their subscriptions survived), and whether the broker logged
 * a resource alarm. One JSON line.
 *
 *   node bench/mqtt/reconnect-storm.mjs --build <compiled Warren> [--connections 10000]
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { CpuSampler } from '../lib/cpu-sampler.mjs';

const { values: o } = parseArgs({
  options: {
    build: { type: 'string', default: join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'warren-bench-build') },
    connections: { type: 'string', default: '10000' },
    generators: { type: 'string', default: '4' },
    check: { type: 'string', default: '200' },
    label: { type: 'string', default: 'warren' },
  },
});
const n = Number(o.connections);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const dataDir = mkdtempSync(join(tmpdir(), 'warren-storm-'));
let log = '';

/** @returns {Promise<{ child: import('node:child_process').ChildProcess, port: number, seconds: number }>} */
function startBroker() {
  const started = performance.now();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'warren-server.mjs'), '--build', resolve(o.build), '--protocols', 'mqtt', '--mqtt-prefetch', 'default', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (d) => (log += d));
  return new Promise((res, rej) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /ready (\{.*\})/.exec(out);
      if (m) res({ child, port: JSON.parse(m[1]).mqtt, seconds: (performance.now() - started) / 1000 });
    });
    child.once('exit', (code) => rej(new Error(`broker exited (${code}): ${log.slice(-500)}`)));
  });
}
/** @param {import('node:child_process').ChildProcess} child */
function stopBroker(child) {
  return new Promise((res) => {
    child.removeAllListeners('exit');
    child.once('exit', res);
    child.kill('SIGTERM');
  });
}
/** @param {number} port @param {'1' | 'resume'} mode */
async function openAll(port, mode) {
  const generators = Number(o.generators);
  const share = Math.ceil(n / generators);
  const children = [];
  for (let g = 0; g < generators && g * share < n; g++) {
    const args = [`mqtt://127.0.0.1:${port}`, String(g * share), String(Math.min(share, n - g * share)), mode, '1', `127.0.0.${2 + g}`, 'dev'];
    children.push(fork(join(import.meta.dirname, 'idle-opener.mjs'), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  /** @type {{ opened: number, seconds: number, sessionPresent: number, retried?: number }[]} */
  const results = await Promise.all(children.map((c) => new Promise((res, rej) => {
    c.once('message', res);
    c.once('exit', (code) => rej(new Error(`a generator exited (${code}); the broker said: ${log.slice(-1500)}`)));
  })));
  return { children, results };
}
/** @param {import('node:child_process').ChildProcess[]} children */
async function closeAll(children) {
  for (const c of children) c.send('close');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
}

/** @param {{ broker_cores: number | null }} use @param {number} seconds @param {number} count */
const usPer = (use, seconds, count) => (use.broker_cores === null ? null : Math.round((use.broker_cores * seconds * 1e6) / count));
let broker = await startBroker();
// a failed run (a generator gave up) does not leave its broker behind
process.on('exit', () => broker.child.kill('SIGKILL'));
const firstCpu = new CpuSampler(broker.child.pid ?? null);
const first = await openAll(broker.port, '1');
const firstCpuUse = firstCpu.finish();
await closeAll(first.children);
await sleep(1000);
await stopBroker(broker.child);
broker = await startBroker();
const restartSeconds = broker.seconds;
const stormCpu = new CpuSampler(broker.child.pid ?? null);
const storm = await openAll(broker.port, 'resume');
const stormCpuUse = stormCpu.finish();
const opened = storm.results.reduce((a, r) => a + r.opened, 0);
const present = storm.results.reduce((a, r) => a + r.sessionPresent, 0);
const stormSeconds = Math.max(...storm.results.map((r) => r.seconds));
// a message to some of them: their subscriptions came back with their sessions
const check = Math.min(n, Number(o.check));
const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `storm-pub-${process.pid}`, reconnectPeriod: 0 });
await Promise.all(Array.from({ length: check }, (_, i) => pub.publishAsync(`idle/dev-${i}`, 'command', { qos: 1 })));
await pub.endAsync();
await sleep(2000);
const counts = await Promise.all(storm.children.map((c) => new Promise((res) => {
  c.once('message', res);
  c.send('count');
})));
const delivered = counts.reduce((a, r) => a + /** @type {{ delivered: number }} */ (r).delivered, 0);
await closeAll(storm.children);
await stopBroker(broker.child);
rmSync(dataDir, { recursive: true, force: true });
const alarms = log.split('\n').filter((l) => /alarm/i.test(l));
process.stdout.write(`${JSON.stringify({
  scenario: 'reconnect-storm', label: o.label, connections: n, generators: Number(o.generators),
  first_connect_per_s: Math.round(n / Math.max(...first.results.map((r) => r.seconds))),
  restart_seconds: Math.round(restartSeconds * 100) / 100,
  storm_connect_per_s: Math.round(opened / stormSeconds), storm_seconds: Math.round(stormSeconds * 100) / 100,
  // the broker's CPU per session: its rate with a core of its own, whatever a shared machine leaves it
  broker_cpu_us_per_new_session: usPer(firstCpuUse, Math.max(...first.results.map((r) => r.seconds)), n),
  broker_cpu_us_per_reconnect: usPer(stormCpuUse, stormSeconds, opened),
  reconnected: opened, session_present: present, checked: check, delivered_after_storm: delivered,
  // connections the broker closed before their answer (no CONNECT within its connect timeout: a starved generator), opened again
  retried_first: first.results.reduce((a, r) => a + (r.retried ?? 0), 0), retried_storm: storm.results.reduce((a, r) => a + (r.retried ?? 0), 0),
  alarm_lines: alarms.length,
  ok: opened === n && present === n && delivered === check && alarms.length === 0,
})}\n`);
