/**
 * Real-client scenarios: MQTT.js (the `mqtt` npm package) at its default settings — MQTT
 * 3.1.1, keep-alive 60 s, clean session, no socket options (so Nagle stays on at the client,
 * as in an ordinary application) — against any broker. Unlike bench/mqtt/wire.mjs (the
 * "raw-wire generator"), every packet goes through MQTT.js's own parser, store and ack logic,
 * so the broker is measured as a user with MQTT.js sees it.
 *
 *   node bench/mqtt/mqttjs.mjs --scenario fan-in  --qos 1 --url mqtt://127.0.0.1:1883 [--pid n]
 *   --scenario fan-in    4 publishers → 1 subscriber on a wildcard, `--inflight` (500) in flight
 *   --scenario fan-out   1 publisher → `--subscribers` (20) subscribers of one topic
 *   --scenario retained  a retained storm: `--topics` (1,000) retained publishes at `--qos`,
 *                        then `--subscribers` subscribe to all of them at once
 *   --scenario devices   `--devices` (1,000) clients each publishing 1 msg/s at `--qos`,
 *                        one wildcard subscriber; latency p50/p99 is the figure
 * Prints one JSON line (bench/mqtt/lib.mjs report).
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { CpuSampler, LatencyHistogram, now, options, publishedAt, publisherOf, report, sequenceOf, sleep, until } from './lib.mjs';

const o = options({
  scenario: { type: 'string', default: 'fan-in' },
  publishers: { type: 'string', default: '4' },
  subscribers: { type: 'string', default: '20' },
  topics: { type: 'string', default: '1000' },
  devices: { type: 'string', default: '1000' },
  inflight: { type: 'string', default: '500' },
});
const qos = /** @type {0 | 1 | 2} */ (Number(o.qos));
const size = Math.max(16, Number(o.size));
const run = `mj${process.pid}`;
const MQTT_VERSION = JSON.parse(readFileSync(new URL('../../node_modules/mqtt/package.json', import.meta.url), 'utf8')).version;

/** An MQTT.js client with the library's defaults (only no reconnects, so a failure shows). */
function client(/** @type {string} */ id) {
  return mqtt.connectAsync(o.url, { clientId: id, reconnectPeriod: 0 });
}

/** the payload: publish time, sequence, publisher (bench/mqtt/lib.mjs layout) */
function stamp(/** @type {number} */ seq, /** @type {number} */ publisher) {
  const b = Buffer.alloc(size, 0x2e);
  b.writeDoubleLE(now(), 0);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(publisher, 12);
  return b;
}

/**
 * Wait out the warm-up, then measure for --seconds with `measuring` on (the caller's flag).
 * @param {number} extraWarmupMs @param {(on: boolean) => void} setMeasuring
 */
async function measure(extraWarmupMs, setMeasuring) {
  await sleep(Number(o.warmup) * 1000 + extraWarmupMs);
  const cpu = new CpuSampler(o.pid ? Number(o.pid) : null);
  setMeasuring(true);
  const started = performance.now();
  await sleep(Number(o.seconds) * 1000);
  setMeasuring(false);
  return { elapsed: (performance.now() - started) / 1000, cpuUse: cpu.finish() };
}

/**
 * CPU microseconds per message of the broker and of this client process: unlike msg/s they
 * hardly depend on what else runs on the machine, and the clients' share shows whether any
 * broker could go faster (a client at ~1 core per its µs × msg/s is the ceiling).
 * @param {{ broker_cores: number | null, self_cores: number | null }} cpuUse @param {number} rate msg/s
 */
function cpuPerMessage(cpuUse, rate) {
  const us = (/** @type {number | null} */ cores) => (cores === null || rate <= 0 ? null : Math.round((cores / rate) * 1e7) / 10);
  return { broker: us(cpuUse.broker_cores), clients: us(cpuUse.self_cores) };
}

/**
 * A closed loop: at most `window` messages between publish and receipt by the slowest
 * subscriber. Publishers take turns; receipt tops the window up.
 * @param {{ topics: string[], filter: string, subscribers: number }} p
 */
async function flow(p) {
  const subs = [];
  const received = new Array(p.subscribers).fill(0);
  const last = Array.from({ length: p.subscribers }, () => new Int32Array(p.topics.length).fill(-1));
  const histogram = new LatencyHistogram();
  let measuring = false;
  let outOfOrder = 0;
  let published = 0;
  let acked = 0;
  let running = true;
  const window = Number(o.inflight);
  const minReceived = () => received.reduce((m, r) => (r < m ? r : m), Infinity);
  const pubs = [];
  for (let i = 0; i < p.topics.length; i++) pubs.push(await client(`${run}-pub-${i}`));
  const seqs = new Array(pubs.length).fill(0);
  let turn = 0;
  const onAck = (/** @type {Error | undefined} */ e) => { if (!e) acked++; };
  let topping = false;
  const topUp = () => {
    if (topping) return;
    topping = true;
    while (running && published - minReceived() < window) {
      const i = turn++ % pubs.length;
      published++;
      pubs[i].publish(p.topics[i], stamp(seqs[i]++, i), { qos }, onAck);
    }
    topping = false;
  };
  for (let s = 0; s < p.subscribers; s++) {
    const c = await client(`${run}-sub-${s}`);
    c.on('message', (_topic, body) => {
      received[s]++;
      const from = publisherOf(body);
      const seq = sequenceOf(body);
      if (seq <= last[s][from]) outOfOrder++;
      last[s][from] = seq;
      if (measuring) histogram.recordMs(now() - publishedAt(body));
      topUp();
    });
    await c.subscribeAsync(p.filter, { qos });
    subs.push(c);
  }
  topUp();
  let r0 = 0;
  const { elapsed, cpuUse } = await measure(0, (on) => {
    if (on) r0 = received.reduce((a, b) => a + b, 0);
    measuring = on;
  });
  const measured = received.reduce((a, b) => a + b, 0) - r0;
  running = false;
  const expected = () => published * p.subscribers;
  await until(() => received.reduce((a, b) => a + b, 0) >= expected(), 15_000);
  if (qos > 0) await until(() => acked >= published, 5000);
  const total = received.reduce((a, b) => a + b, 0);
  await Promise.all([...subs, ...pubs].map((c) => c.endAsync()));
  return {
    publishers: pubs.length, subscribers: p.subscribers, window,
    seconds: Math.round(elapsed * 100) / 100,
    msgs_per_s: Math.round(measured / elapsed),
    latency_ms: histogram.summary(),
    published, expected_deliveries: expected(), received: total,
    lost: Math.max(0, expected() - total), out_of_order: outOfOrder,
    puback_missing: qos > 0 ? published - acked : 0,
    cpu_cores: { broker: cpuUse.broker_cores, clients: cpuUse.self_cores, host_busy: cpuUse.host_busy_cores, of: cpuUse.cores },
    cpu_us_per_msg: cpuPerMessage(cpuUse, measured / elapsed),
    ok: total === expected() && outOfOrder === 0 && (qos === 0 || acked === published),
  };
}

/** Retained storm: publish `topics` retained messages, then `subscribers` subscribe to them all at once. */
async function retainedStorm() {
  const n = Number(o.topics);
  const nSubs = Number(o.subscribers);
  const pub = await client(`${run}-pub`);
  let acked = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const done = (/** @type {Error | undefined} */ e) => { if (!e && ++acked === n) resolve(undefined); };
    for (let i = 0; i < n; i++) pub.publish(`storm/${run}/${i}`, stamp(i, 0), { qos, retain: true }, qos === 0 ? undefined : done);
    if (qos === 0) resolve(undefined);
  });
  const publishSeconds = (performance.now() - t0) / 1000;
  const subs = await Promise.all(Array.from({ length: nSubs }, (_, s) => client(`${run}-sub-${s}`)));
  let received = 0;
  const cpu = new CpuSampler(o.pid ? Number(o.pid) : null);
  const t1 = performance.now();
  for (const c of subs) {
    c.on('message', (_t, _b, packet) => { if (packet.retain) received++; });
    c.subscribe(`storm/${run}/#`, { qos });
  }
  const complete = await until(() => received >= n * nSubs, 60_000);
  const deliverSeconds = (performance.now() - t1) / 1000;
  const cpuUse = cpu.finish();
  // clear them, so a broker reused by another run does not carry them
  for (let i = 0; i < n; i++) pub.publish(`storm/${run}/${i}`, Buffer.alloc(0), { qos: 0, retain: true });
  await Promise.all([pub, ...subs].map((c) => c.endAsync()));
  return {
    topics: n, subscribers: nSubs,
    retained_published_per_s: Math.round(n / publishSeconds),
    msgs_per_s: Math.round(received / deliverSeconds),
    deliver_seconds: Math.round(deliverSeconds * 1000) / 1000,
    received, expected_deliveries: n * nSubs, lost: n * nSubs - received,
    cpu_cores: { broker: cpuUse.broker_cores, clients: cpuUse.self_cores, host_busy: cpuUse.host_busy_cores, of: cpuUse.cores },
    ok: complete && (qos === 0 || acked === n),
  };
}

/** `devices` clients, each publishing once a second (spread evenly), one wildcard subscriber. */
async function devices() {
  const n = Number(o.devices);
  const sub = await client(`${run}-sub`);
  const histogram = new LatencyHistogram();
  let measuring = false;
  let received = 0;
  let published = 0;
  sub.on('message', (_t, body) => {
    received++;
    if (measuring) histogram.recordMs(now() - publishedAt(body));
  });
  await sub.subscribeAsync(`dev/${run}/+/telemetry`, { qos });
  const clients = [];
  for (let i = 0; i < n; i += 100) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => client(`${run}-dev-${i + k}`)))));
  }
  const seqs = new Uint32Array(n);
  // every 10 ms, the next n/100 devices publish: each device once a second
  let next = 0;
  const perTick = n / 100;
  let owed = 0;
  const ticker = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const i = next++ % n;
      published++;
      clients[i].publish(`dev/${run}/${i}/telemetry`, stamp(seqs[i]++, i), { qos });
    }
  }, 10);
  let r0 = 0;
  const { elapsed, cpuUse } = await measure(1000, (on) => {
    if (on) r0 = received;
    measuring = on;
  });
  clearInterval(ticker);
  await until(() => received >= published, 10_000);
  await Promise.all([sub, ...clients].map((c) => c.endAsync()));
  return {
    devices: n, seconds: Math.round(elapsed * 100) / 100,
    msgs_per_s: Math.round((received - r0) / elapsed),
    latency_ms: histogram.summary(),
    published, received, lost: Math.max(0, published - received),
    cpu_cores: { broker: cpuUse.broker_cores, clients: cpuUse.self_cores, host_busy: cpuUse.host_busy_cores, of: cpuUse.cores },
    ok: received >= published,
  };
}

const scenarios = {
  'fan-in': () => flow({ topics: Array.from({ length: Number(o.publishers) }, (_, i) => `bench/${run}/${i}/data`), filter: `bench/${run}/+/data`, subscribers: 1 }),
  'fan-out': () => flow({ topics: [`bench/${run}/fanout`], filter: `bench/${run}/fanout`, subscribers: Number(o.subscribers) }),
  retained: retainedStorm,
  devices,
};
const scenario = /** @type {keyof typeof scenarios} */ (o.scenario);
if (!scenarios[scenario]) throw new Error(`--scenario: one of ${Object.keys(scenarios).join(', ')}`);
const result = await scenarios[scenario]();
report({ scenario: `mqttjs-${scenario}-qos${qos}`, client: `mqtt.js ${MQTT_VERSION}`, label: o.label, qos, size, ...result });
process.exit(0);

