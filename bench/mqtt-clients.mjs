/**
 * MQTT with real clients at default settings, Warren beside Mosquitto and Aedes in one sitting:
 *
 *   node bench/mqtt-clients.mjs [--repeat 2] [--seconds 8] [--only mqttjs-fan-in-qos1,…] [--out file]
 *
 * Every broker runs at its defaults (stated in docs/performance.md): Warren with no `mqtt.*`
 * override (bench/warren-server.mjs --mqtt-prefetch default); Mosquitto with its defaults but
 * for `max_queued_messages 0` (see bench/lib/brokers.mjs); Aedes as its README starts it. The
 * clients are MQTT.js (bench/mqtt/mqttjs.mjs) and paho-mqtt (bench/mqtt/paho_fan_in.py, by
 * /usr/bin/python3, when installed), also at their defaults. A fourth column, `trivial`
 * (bench/mqtt/trivial-broker.mjs), is no broker: the same clients against a responder that
 * only answers and forwards, the ceiling of the client process. The `raw-wire` rows use the
 * project's own minimal client (bench/mqtt/wire.mjs) and are labelled "raw-wire generator".
 * A fresh broker per run; rounds alternate the brokers' order; the table shows medians and
 * Warren ÷ the best other broker. JSON lines to stdout and to --out
 * (default bench/results/mqtt-clients-<date>.jsonl).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, aedes, mosquitto, trivialResponder, warren, warrenBuild } from './lib/brokers.mjs';
import { median } from './lib/table.mjs';

const PYTHON = '/usr/bin/python3';
const MQTTJS = join(REPO, 'bench', 'mqtt', 'mqttjs.mjs');
const mj = (/** @type {string} */ scenario, /** @type {number} */ qos, /** @type {string[]} */ extra = []) => ['node', MQTTJS, '--scenario', scenario, '--qos', String(qos), ...extra];
/** @type {{ id: string, title: string, cmd: string[], metric: string, throughput: boolean }[]} */
const ROWS = [
  { id: 'mqttjs-fan-in-qos0', title: 'MQTT.js fan-in QoS 0, 4 → 1 wildcard, 500 in flight', cmd: mj('fan-in', 0), metric: 'msg/s', throughput: true },
  { id: 'mqttjs-fan-in-qos1', title: 'MQTT.js fan-in QoS 1, 4 → 1 wildcard, 500 in flight', cmd: mj('fan-in', 1), metric: 'msg/s', throughput: true },
  { id: 'mqttjs-fan-in-qos2', title: 'MQTT.js fan-in QoS 2, 4 → 1 wildcard, 500 in flight', cmd: mj('fan-in', 2), metric: 'msg/s', throughput: true },
  { id: 'mqttjs-fan-out-qos0', title: 'MQTT.js fan-out QoS 0, 1 → 20', cmd: mj('fan-out', 0), metric: 'deliveries/s', throughput: true },
  { id: 'mqttjs-fan-out-qos1', title: 'MQTT.js fan-out QoS 1, 1 → 20', cmd: mj('fan-out', 1), metric: 'deliveries/s', throughput: true },
  { id: 'mqttjs-retained-qos1', title: 'MQTT.js retained storm QoS 1: 1,000 retained, then 20 subscribe to #', cmd: mj('retained', 1), metric: 'retained deliveries/s', throughput: false },
  { id: 'mqttjs-devices-qos1', title: 'MQTT.js 1,000 devices × 1 msg/s QoS 1 → 1 wildcard subscriber', cmd: mj('devices', 1), metric: 'latency p99 ms', throughput: false },
  { id: 'paho-fan-in-qos0', title: 'paho fan-in QoS 0, 4 → 1 wildcard, 500 in flight', cmd: ['python', join(REPO, 'bench', 'mqtt', 'paho_fan_in.py'), '--qos', '0'], metric: 'msg/s', throughput: true },
  { id: 'paho-fan-in-qos1', title: 'paho fan-in QoS 1, 4 → 1 wildcard, 500 in flight', cmd: ['python', join(REPO, 'bench', 'mqtt', 'paho_fan_in.py'), '--qos', '1'], metric: 'msg/s', throughput: true },
  { id: 'raw-wire-fan-in-qos1', title: 'raw-wire generator (bench/mqtt/wire.mjs) fan-in QoS 1, window 1,000', cmd: ['node', join(REPO, 'bench', 'mqtt', 'fan-in.mjs'), '--qos', '1'], metric: 'msg/s', throughput: true },
];

/** @param {Record<string, any>} r @param {string} metric */
function pick(r, metric) {
  if (metric === 'latency p99 ms') return r.latency_ms?.p99;
  return r.msgs_per_s;
}

/** @param {string[]} cmd @param {number} timeoutMs @returns {Promise<Record<string, any>>} */
function runScript(cmd, timeoutMs) {
  return new Promise((resolve) => {
    const [exe, ...args] = cmd;
    const child = spawn(exe === 'node' ? process.execPath : PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      try {
        if (line) return resolve(JSON.parse(line));
      } catch { /* below */ }
      resolve({ ok: false, errors: [`exit ${code}: ${err.trim().split('\n').slice(-2).join(' / ')}`] });
    });
  });
}

const { values: o } = parseArgs({
  options: {
    repeat: { type: 'string', default: '2' }, seconds: { type: 'string', default: '8' }, warmup: { type: 'string', default: '1' },
    only: { type: 'string' }, brokers: { type: 'string' }, build: { type: 'string' }, 'aedes-dir': { type: 'string' },
    out: { type: 'string' }, note: { type: 'string', default: '' },
  },
});
const only = o.only ? new Set(o.only.split(',')) : null;
const rows = ROWS.filter((r) => (!only || only.has(r.id)) && (r.cmd[0] !== 'python' || existsSync(PYTHON)));
const wanted = o.brokers ? new Set(o.brokers.split(',')) : null;
// `trivial` (bench/mqtt/trivial-broker.mjs) is a reference column, not a broker: what the same
// clients reach when the other side does next to nothing; never in "best other"
const kinds = [warren(warrenBuild(o.build), { defaults: true }), mosquitto(undefined, { defaults: true }), aedes(o['aedes-dir'], { defaults: true }), trivialResponder()]
  .filter((k) => k !== null && (!wanted || wanted.has(k.label)));
const brokers = /** @type {import('./lib/brokers.mjs').BrokerKind[]} */ (kinds);
const out = o.out ?? join(REPO, 'bench', 'results', `mqtt-clients-${new Date().toISOString().slice(0, 10)}.jsonl`);
mkdirSync(join(out, '..'), { recursive: true });
/** @type {Map<string, Record<string, any>[]>} */
const results = new Map();
const repeat = Number(o.repeat);
for (let round = 1; round <= repeat; round++) {
  const order = round % 2 === 1 ? brokers : [...brokers].reverse();
  for (const row of rows) {
    for (const kind of order) {
      let broker = null;
      /** @type {Record<string, any>} */
      let result;
      try {
        broker = await kind.start('mqtt');
        const cmd = [...row.cmd, '--url', /** @type {string} */ (broker.urls.mqtt), '--label', kind.label, '--seconds', o.seconds, '--warmup', o.warmup];
        if (cmd[0] === 'node' && broker.pid) cmd.push('--pid', String(broker.pid));
        process.stderr.write(`[mqtt-clients] round ${round}/${repeat}: ${row.id} on ${kind.label} …\n`);
        result = await runScript(cmd, (Number(o.seconds) + 120) * 1000);
      } catch (e) {
        result = { ok: false, errors: [/** @type {Error} */ (e).message] };
      } finally {
        await broker?.stop();
      }
      Object.assign(result, { row: row.id, label: kind.label, round, loadavg_1m: (await import('node:os')).loadavg()[0], note: o.note });
      const key = `${row.id}/${kind.label}`;
      results.set(key, [...(results.get(key) ?? []), result]);
      const line = JSON.stringify(result);
      process.stdout.write(`${line}\n`);
      appendFileSync(out, `${line}\n`);
    }
  }
}

const labels = brokers.map((b) => b.label);
const others = labels.filter((l) => l !== 'warren' && l !== 'trivial');
const lines = [`| scenario | metric | ${labels.join(' | ')} | warren ÷ best other |`, `| --- | --- | ${labels.map(() => '---:').join(' | ')} | ---: |`];
for (const row of rows) {
  const v = new Map(labels.map((l) => {
    const ok = (results.get(`${row.id}/${l}`) ?? []).filter((r) => r.ok);
    return [l, ok.length ? median(ok.map((r) => pick(r, row.metric))) : null];
  }));
  const lower = row.metric.startsWith('latency');
  const best = others.map((l) => v.get(l)).filter((x) => x !== null && x !== undefined).reduce((a, b) => (a === null ? b : lower ? Math.min(a, b) : Math.max(a, b)), null);
  const w = v.get('warren');
  const cell = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined ? 'FAILED' : lower ? x.toFixed(2) : Math.round(x).toLocaleString('en-US'));
  lines.push(`| ${row.title} | ${row.metric} | ${labels.map((l) => cell(v.get(l))).join(' | ')} | ${w && best ? (w / best).toFixed(2) : ''} |`);
}
// CPU µs per message (broker / client process), medians: the clients' share is the same whichever
// broker serves them, so it bounds every broker's throughput on a machine the two share
lines.push('', `| scenario | ${labels.map((l) => `${l} µs/msg broker / clients`).join(' | ')} |`, `| --- | ${labels.map(() => '---:').join(' | ')} |`);
for (const row of rows.filter((r) => r.throughput)) {
  const cell = (/** @type {string} */ l, /** @type {'broker' | 'clients'} */ k) => {
    const xs = (results.get(`${row.id}/${l}`) ?? []).filter((r) => r.ok && r.cpu_us_per_msg?.[k] != null).map((r) => r.cpu_us_per_msg[k]);
    return xs.length ? median(xs).toFixed(1) : '–';
  };
  lines.push(`| ${row.id} | ${labels.map((l) => `${cell(l, 'broker')} / ${cell(l, 'clients')}`).join(' | ')} |`);
}
process.stdout.write(`\n${lines.join('\n')}\n\n(${repeat} rounds, ${o.seconds} s per throughput run; JSON lines in ${out})\n`);
