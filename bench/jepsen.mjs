#!/usr/bin/env node
/**
 * Jepsen-style run of a Warren cluster (docs/clustering.md "What is tested"): three etcd
 * members and three Warren nodes on loopback, AMQP publishers with confirms and unique ids,
 * consumers with manual acks, a STOMP publisher with receipts and a client-individual consumer
 * (--stomp-publishers N, default 1), an MQTT QoS 1 publisher and a persistent QoS 1 subscriber
 * (--mqtt-publishers N, default 1), one fault every --every-min..--every-max seconds (kill -9 of
 * the leader, kill -9 of a follower, SIGSTOP of the leader past its lease then SIGCONT, an
 * etcd member killed and restarted), then a full drain and a verdict on every id.
 *
 *   npm run jepsen -- --minutes 30
 *   npm run jepsen -- --minutes 2 --every-min 10 --every-max 30 --lease-ttl 4
 *
 * It compiles the project and the harness (tsconfig.bench.json) into
 * node_modules/.cache/warren-jepsen-build first, so it runs exactly the code in the tree.
 * Progress lines go to stderr; a JSON line goes to bench/results/jepsen-<date>[-<tag>][-loaded].jsonl
 * (--tag names a run: --tag all-protocols);
 * the last line on stdout is
 *   lost=L unexpected=U duplicated=D recovered=R faults=F failover_p50_ms=… failover_max_ms=…
 * Exit code 1 when lost or unexpected is not 0.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    'every-min': { type: 'string', default: '10' },
    'every-max': { type: 'string', default: '30' },
    'lease-ttl': { type: 'string', default: '4' },
    'min-faults': { type: 'string', default: '0' },
    publishers: { type: 'string', default: '3' },
    queues: { type: 'string', default: '2' },
    rate: { type: 'string', default: '50' },
    'mqtt-publishers': { type: 'string', default: '1' },
    'stomp-publishers': { type: 'string', default: '1' },
    loaded: { type: 'boolean', default: false },
    // a word in the results file's name: jepsen-<date>-<tag>[-loaded].jsonl
    tag: { type: 'string', default: '' },
  },
});
const num = (k) => {
  const n = Number(values[k]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${k}: expected a number, got ${values[k]}`);
  return n;
};

const buildDir = join(root, 'node_modules', '.cache', 'warren-jepsen-build');
process.stderr.write(`building into ${buildDir} …\n`);
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], { cwd: root, stdio: 'inherit' });
const { runJepsen } = await import(join(buildDir, 'test', 'helpers', 'jepsen', 'run.js'));

const options = {
  cliPath: join(buildDir, 'src', 'cli.js'),
  durationMs: num('minutes') * 60_000,
  faultEveryMs: [num('every-min') * 1000, num('every-max') * 1000],
  minFaults: num('min-faults'),
  leaseTtlMs: num('lease-ttl') * 1000,
  publishers: num('publishers'),
  queues: num('queues'),
  rate: num('rate'),
  mqttPublishers: num('mqtt-publishers'),
  stompPublishers: num('stomp-publishers'),
  log: (line) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`),
};
const loadBefore = loadavg()[0];
const r = await runJepsen(options);
const line = `lost=${r.lost} unexpected=${r.unexpected} duplicated=${r.duplicated} recovered=${r.recovered} faults=${r.faults} failover_p50_ms=${r.failoverP50Ms} failover_max_ms=${r.failoverMaxMs}`;

const date = new Date().toISOString().slice(0, 10);
const loaded = values.loaded || loadBefore > 1.5;
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `jepsen-${date}${values.tag ? `-${values.tag}` : ''}${loaded ? '-loaded' : ''}.jsonl`);
const { faultLog, lostIds, ...summary } = r;
appendFileSync(file, JSON.stringify({
  bench: 'jepsen', at: new Date().toISOString(), command: `npm run jepsen -- ${process.argv.slice(2).join(' ')}`.trim(),
  options: { ...options, log: undefined, cliPath: undefined }, loadavg1Before: loadBefore, loadavg1After: loadavg()[0],
  ...summary, lostIds, faultLog,
}) + '\n');
process.stderr.write(`sent=${r.sent} confirmed=${r.confirmed} (per publisher ${JSON.stringify(r.confirmedBy)}) delivered=${r.delivered} reordered=${r.reordered} duration_s=${Math.round(r.durationMs / 1000)}; written to ${file}\n`);
console.log(line);
process.exit(r.lost === 0 && r.unexpected === 0 ? 0 : 1);
