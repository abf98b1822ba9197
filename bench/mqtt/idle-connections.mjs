/**
 * Memory per idle connection: open `--connections` (10,000) MQTT 3.1.1 connections that
 * CONNECT (keep-alive 60 s), subscribe to one topic each at QoS 1 and then stay idle, and
 * read the broker's resident memory (/proc/<pid>/status VmRSS) before and after. Raw
 * sockets, not MQTT.js, so the client side stays small, opened by `--generators` (4) processes
 * from 127.0.0.2, .3, … (bench/mqtt/idle-opener.mjs). `--persistent`: clean session 0. `--subscriptions 0`: CONNECT only. Needs `--pid`. With `--gc-signal`
 * the broker (bench/mqtt/warren-server.mjs) is sent SIGUSR2 to collect garbage before each
 * reading; Mosquitto frees memory as it goes and needs no such thing.
 *
 *   node bench/mqtt/idle-connections.mjs --url mqtt://127.0.0.1:1883 --pid 1234 --connections 10000
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryFields, rssKiB as brokerRss } from '../lib/broker-memory.mjs';
import { CpuSampler, options, report, sleep } from './lib.mjs';

const o = options({
  connections: { type: 'string', default: '10000' }, subscriptions: { type: 'string', default: '1' }, 'gc-signal': { type: 'boolean', default: false },
  // a persistent session (clean session 0): a device that keeps its subscription while offline
  persistent: { type: 'boolean', default: false },
  generators: { type: 'string', default: '4' },
  // connections each generator opens at once (idle-opener.mjs)
  batch: { type: 'string', default: '200' },
  // open this many connections of the same kind first (ids warm-*) and keep them open, so that
  // code compiled and heap spaces grown on first use are in the baseline: the figure is then
  // the marginal cost of one more idle connection (nothing was freed for the measured ones to reuse)
  'warmup-connections': { type: 'string', default: '0' },
  // the broker runs with --heapsnapshot-signal=SIGUSR1: a heap snapshot after each reading (where the KiB go)
  'heap-snapshots': { type: 'boolean', default: false },
  // the file the broker appends its memory split to after each SIGUSR2 GC (its --memory-log):
  // the result then says per connection where the RSS delta sits (V8 spaces, outside the heap)
  'memory-log': { type: 'string' },
});
const url = new URL(o.url);
const pid = Number(o.pid);
const n = Number(o.connections);
// 1: each connection subscribes to its own topic at QoS 1 (a device waiting for commands); 0: CONNECT only
const subscribe = o.subscriptions !== '0';
if (!pid) throw new Error('--pid is required');

/** the broker's memory split logged by its last GC (bench/lib/memory-split.mjs), or null */
const lastSplit = () => {
  if (!o['memory-log']) return null;
  const lines = readFileSync(o['memory-log'], 'utf8').trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
};
/** @type {Record<string, number>[]} the split at each reading */
const splits = [];

const loggedLines = () => (o['memory-log'] && existsSync(o['memory-log']) ? readFileSync(o['memory-log'], 'utf8').trim().split('\n').length : 0);

/** resident memory in KiB, after a collection when the broker takes the signal */
const rssKiB = async () => {
  const seen = loggedLines();
  let kib = await brokerRss(pid, o['gc-signal']);
  if (o['memory-log'] && o['gc-signal']) {
    // a loaded broker may take seconds to collect: its log line says it has, then RSS is read again
    for (let waited = 0; loggedLines() <= seen && waited < 60_000; waited += 100) await sleep(100);
    kib = await brokerRss(pid, false);
    const split = lastSplit();
    if (split) splits.push(split);
  }
  if (o['heap-snapshots']) {
    process.kill(pid, 'SIGUSR1');
    await sleep(8000); // the broker is frozen while it writes the snapshot
  }
  return kib;
};

/**
 * Open `count` connections from `generators` processes, each from its own 127.0.0.x
 * (idle-opener.mjs), all at once. @returns the children and their reports
 */
async function openAll(count, persistent, prefix) {
  const generators = Math.max(1, Number(o.generators));
  const share = Math.ceil(count / generators);
  const children = [];
  for (let g = 0; g < generators; g++) {
    const mine = Math.min(share, count - g * share);
    if (mine <= 0) break;
    const local = url.hostname === '127.0.0.1' ? `127.0.0.${2 + g}` : '';
    const args = [o.url, String(g * share), String(mine), subscribe ? '1' : '0', persistent ? '1' : '0', local, prefix, o.batch];
    children.push(fork(join(import.meta.dirname, 'idle-opener.mjs'), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  const results = await Promise.all(children.map((c) => new Promise((resolve, reject) => {
    c.once('message', resolve);
    c.once('exit', (code) => reject(new Error(`a generator exited (${code}) before opening its connections`)));
  })));
  return { children, results };
}
/** @param {import('node:child_process').ChildProcess[]} children */
async function closeAll(children) {
  for (const c of children) c.send('close');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
}

const warm = Number(o['warmup-connections']);
const warmed = warm > 0 ? (await openAll(warm, o.persistent, 'warm')).children : [];
await sleep(500);
const before = await rssKiB();
const cpu = new CpuSampler(pid);
const { children, results } = await openAll(n, o.persistent, 'idle');
// the broker's CPU per connection: what its connect rate would be with a core of its own,
// whatever the generators and the rest of a shared machine take
const cpuUse = cpu.finish();
const opened = results.reduce((a, r) => a + r.opened, 0);
const connectSeconds = Math.max(...results.map((r) => r.seconds));
await sleep(3000);
const after = await rssKiB();
await closeAll([...children, ...warmed]);
await sleep(2000);
const released = await rssKiB();
report({
  scenario: 'idle-connections',
  label: o.label,
  connections: n,
  subscribed: subscribe,
  persistent: o.persistent,
  gc_before_reading: o['gc-signal'],
  ...memoryFields(n, connectSeconds, before, after, released),
  broker_cores: cpuUse.broker_cores,
  host_busy_cores: cpuUse.host_busy_cores,
  broker_cpu_us_per_connect: cpuUse.broker_cores === null ? null : Math.round((cpuUse.broker_cores * connectSeconds * 1e6) / n),
  generators: children.length,
  retried: results.reduce((a, r) => a + (r.retried ?? 0), 0),
  warmup_connections: warm,
  // bytes per connection of each part of the broker's memory, after minus before (KiB → bytes)
  ...(splits.length >= 2 ? { split_bytes_per_connection: perConnection(splits[0], splits[1]) } : {}),
  ok: opened === n,
});

/** @param {Record<string, number>} a @param {Record<string, number>} b */
function perConnection(a, b) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const [k, v] of Object.entries(b)) if (typeof v === 'number' && typeof a[k] === 'number') out[k] = Math.round(((v - a[k]) * 1024) / n);
  return out;
}
