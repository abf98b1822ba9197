#!/usr/bin/env node
/**
 * Soak: hold a mixed AMQP + MQTT + STOMP load on a broker process for a long time and watch
 * that throughput stays steady, memory stays flat, the event loop stays responsive, and no
 * message is lost, counted end to end.
 *
 *   npm run build && node bench/soak.mjs --minutes 30
 *   node bench/soak.mjs --minutes 2 --idle 1200 --rate 200 --every 10 --out /tmp/soak.json
 *
 * The broker is spawned as its own process (bench/broker-process.mjs) with AMQP, MQTT, STOMP
 * and management on OS-chosen loopback ports (RabbitMQ may hold the standard ones here), in a
 * fresh data directory. The load, from this process:
 *   - busy streams, each one publisher and one consumer, at --rate msg/s each:
 *       AMQP persistent (confirms, durable queue, manual acks), AMQP transient (no confirms),
 *       MQTT QoS 1 (PUBACK) and QoS 0, STOMP persistent (receipts, client-individual acks)
 *       and transient (/topic, no receipt);
 *   - --idle mostly idle connections split over the three protocols, each publishing one
 *     confirmed message every --idle-period s to itself (a queue or topic of its own), so that
 *     every connection carries traffic now and then.
 * Every message carries "stream:seq:sentAt". Receivers mark each seq in a bitmap per stream,
 * so at the end: lost = confirmed and never received (must be 0), duplicates = received twice
 * (reported: at-least-once allows them), unconfirmed = sent but no confirm by the end.
 *
 * Every --every s one line: received msg/s per protocol, p50/p99 latency over the window,
 * broker RSS (/proc), event-loop lag p99/max (the management plugin's /metrics), connections.
 * At the end a JSON summary (stdout, and --out file): the series and the loss accounting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { loadBuild, rssMiB, startBroker } from './broker-process.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    idle: { type: 'string', default: '1200' },
    'idle-period': { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    size: { type: 'string', default: '256' },
    every: { type: 'string', default: '10' },
    drain: { type: 'string', default: '60' },
    build: { type: 'string' },
    out: { type: 'string' },
  },
});
const MINUTES = Number(args.minutes);
const IDLE = Number(args.idle);
const IDLE_PERIOD_MS = Number(args['idle-period']) * 1000;
const RATE = Number(args.rate);
const SIZE = Number(args.size);
const EVERY_MS = Number(args.every) * 1000;
const DRAIN_MS = Number(args.drain) * 1000;

// ---- accounting --------------------------------------------------------------------------------

/** A growable bitmap of sequence numbers. */
class Bits {
  bytes = new Uint8Array(1024);
  has(i) {
    return i >> 3 < this.bytes.length && (this.bytes[i >> 3] & (1 << (i & 7))) !== 0;
  }
  set(i) {
    while (i >> 3 >= this.bytes.length) {
      const b = new Uint8Array(this.bytes.length * 2);
      b.set(this.bytes);
      this.bytes = b;
    }
    this.bytes[i >> 3] |= 1 << (i & 7);
  }
}

/** One publisher's messages: sent, confirmed and received, by sequence number. */
class Stream {
  constructor(id, protocol, kind, confirmed) {
    this.id = id;
    this.protocol = protocol;
    this.kind = kind; // 'persistent' | 'transient' | 'idle'
    this.withConfirms = confirmed;
    this.sent = 0;
    this.confirmedBits = new Bits();
    this.confirmedCount = 0;
    this.receivedBits = new Bits();
    this.received = 0;
    this.duplicates = 0;
  }
  confirm(seq) {
    if (!this.confirmedBits.has(seq)) {
      this.confirmedBits.set(seq);
      this.confirmedCount++;
    }
  }
  receive(seq) {
    if (this.receivedBits.has(seq)) this.duplicates++;
    else {
      this.receivedBits.set(seq);
      this.received++;
    }
  }
  /** confirmed and never received */
  lost() {
    let n = 0;
    for (let s = 0; s < this.sent; s++) if (this.confirmedBits.has(s) && !this.receivedBits.has(s)) n++;
    return n;
  }
}

const streams = new Map();
function stream(protocol, kind, confirmed) {
  const s = new Stream(streams.size, protocol, kind, confirmed);
  streams.set(s.id, s);
  return s;
}

const pad = Buffer.alloc(Math.max(0, SIZE - 32), 0x2e);
function payload(s, seq) {
  return Buffer.concat([Buffer.from(`${s.id}:${seq}:${Date.now()}:`), pad]);
}

/** latency histograms over the whole run, by "protocol.kind" */
const latencyByKind = {};
function histPct(h, p) {
  let total = 0;
  for (const n of h) total += n;
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen > total * p) return i;
  }
  return NaN;
}

/** per-window counters, reset at each report line */
const win = { received: { amqp: 0, mqtt: 0, stomp: 0 }, latencies: [] };
const errors = [];
function onMessage(buf) {
  const text = buf.subarray(0, 40).toString('latin1');
  const [id, seq, at] = text.split(':', 3);
  const s = streams.get(Number(id));
  if (!s) return;
  s.receive(Number(seq));
  win.received[s.protocol]++;
  const ms = Date.now() - Number(at);
  if (win.latencies.length < 200_000) win.latencies.push(ms);
  // over the whole run, per protocol and kind, in 1 ms buckets up to 10 s
  const h = (latencyByKind[`${s.protocol}.${s.kind}`] ??= new Uint32Array(10_001));
  h[Math.min(10_000, Math.max(0, ms))]++;
}

// ---- the broker --------------------------------------------------------------------------------

const build = await loadBuild(args.build);
const dataDir = mkdtempSync(join(tmpdir(), 'warren-soak-'));
const broker = startBroker({
  build,
  dataDir,
  env: {
    WARREN_PLUGINS_MQTT_ENABLED: 'true',
    WARREN_PLUGINS_STOMP_ENABLED: 'true',
    WARREN_PLUGINS_MANAGEMENT_ENABLED: 'true',
    WARREN_MQTT_PORT: '0',
    WARREN_MQTT_HOST: '127.0.0.1',
    WARREN_MQTT_WS_ENABLED: 'false',
    WARREN_STOMP_PORT: '0',
    WARREN_STOMP_HOST: '127.0.0.1',
    WARREN_STOMP_WS_ENABLED: 'false',
    WARREN_MANAGEMENT_PORT: '0',
    WARREN_MANAGEMENT_HOST: '127.0.0.1',
    WARREN_MANAGEMENT_SAMPLE_INTERVAL: '1s',
    WARREN_LOG_LEVEL: 'info',
  },
});
const { url: amqpUrl } = await broker.started;
const listeners = broker.find('broker started').listeners;
const portOf = (name) => listeners.find((l) => l.name === name)?.port;
const ports = { amqp: portOf('amqp'), mqtt: portOf('mqtt'), stomp: portOf('stomp'), management: portOf('management') };
if (!ports.mqtt || !ports.stomp || !ports.management) throw new Error(`missing listeners: ${JSON.stringify(listeners)}`);
console.error(`broker pid ${broker.pid}, ports ${JSON.stringify(ports)}, data ${dataDir}`);

async function metrics() {
  try {
    const text = await (await fetch(`http://127.0.0.1:${ports.management}/metrics`)).text();
    const get = (re) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      lagP99Ms: get(/^warren_event_loop_lag_seconds\{quantile="0\.99"\} (\S+)/m) * 1000,
      lagMaxMs: get(/^warren_event_loop_lag_max_seconds(?:\{\})? (\S+)/m) * 1000,
      heapMiB: get(/^warren_process_heap_used_bytes(?:\{\})? (\S+)/m) / 1048576,
      // one line per protocol
      connections: [...text.matchAll(/^warren_connections(?:\{[^}]*\})? (\S+)/gm)].reduce((n, m) => n + Number(m[1]), 0),
    };
  } catch {
    return { lagP99Ms: NaN, lagMaxMs: NaN, heapMiB: NaN, connections: NaN };
  }
}

// ---- clients -------------------------------------------------------------------------------------

const closers = [];
let publishing = true;

/** Run `fn` every `ms` with a random phase, while publishing lasts. */
function every(ms, fn) {
  const start = setTimeout(() => {
    fn();
    const t = setInterval(() => (publishing ? fn() : clearInterval(t)), ms);
    closers.push(() => clearInterval(t));
  }, Math.random() * ms);
  closers.push(() => clearTimeout(start));
}

/** `rate` msg/s from the time elapsed (timers run late on a loaded machine), at most a second's worth at once. */
function paced(rate, send) {
  let credit = 0;
  let last = performance.now();
  every(10, () => {
    const now = performance.now();
    credit = Math.min(rate, credit + (rate * (now - last)) / 1000);
    last = now;
    while (credit >= 1) {
      credit--;
      if (!send()) break;
    }
  });
}

const MAX_OUTSTANDING = 2000;

// AMQP
async function amqpBusy(persistent) {
  const s = stream('amqp', persistent ? 'persistent' : 'transient', persistent);
  const queue = `soak.amqp.${persistent ? 'persistent' : 'transient'}`;
  const pubConn = await amqplib.connect(amqpUrl);
  const subConn = await amqplib.connect(amqpUrl);
  closers.push(() => pubConn.close().catch(() => {}), () => subConn.close().catch(() => {}));
  const pub = persistent ? await pubConn.createConfirmChannel() : await pubConn.createChannel();
  const sub = await subConn.createChannel();
  await pub.assertQueue(queue, { durable: persistent });
  await sub.prefetch(200);
  await sub.consume(queue, (m) => {
    if (!m) return;
    onMessage(m.content);
    sub.ack(m);
  });
  let outstanding = 0;
  paced(RATE, () => {
    if (outstanding > MAX_OUTSTANDING) return false;
    const seq = s.sent++;
    if (persistent) {
      outstanding++;
      pub.publish('', queue, payload(s, seq), { persistent: true }, (err) => {
        outstanding--;
        if (!err) s.confirm(seq);
      });
    } else {
      pub.sendToQueue(queue, payload(s, seq));
      s.confirm(seq); // no confirms: counted as "confirmed" when handed to the socket (loss reported separately)
    }
    return true;
  });
}

async function amqpIdle(i) {
  const s = stream('amqp', 'idle', true);
  const conn = await amqplib.connect(amqpUrl);
  closers.push(() => conn.close().catch(() => {}));
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue(`soak.amqp.idle.${i}`, { durable: true });
  await ch.consume(queue, (m) => {
    if (!m) return;
    onMessage(m.content);
    ch.ack(m);
  });
  every(IDLE_PERIOD_MS, () => {
    const seq = s.sent++;
    ch.publish('', queue, payload(s, seq), { persistent: true }, (err) => !err && s.confirm(seq));
  });
}

// MQTT
async function mqttConnect(clientId) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 60_000 });
  // MQTT.js leaves Nagle on: a QoS 0 publisher (nothing comes back to piggyback ACKs on) would
  // then wait for the broker's delayed ACK, ~40 ms, which is the client's latency, not the broker's
  c.stream.setNoDelay?.(true);
  return c;
}

async function mqttBusy(qos) {
  const s = stream('mqtt', qos === 1 ? 'persistent' : 'transient', qos === 1);
  const topic = `soak/mqtt/qos${qos}`;
  const sub = await mqttConnect(`soak-sub-q${qos}`);
  const pub = await mqttConnect(`soak-pub-q${qos}`);
  closers.push(() => sub.endAsync(true).catch(() => {}), () => pub.endAsync(true).catch(() => {}));
  sub.on('message', (_t, m) => onMessage(m));
  await sub.subscribeAsync(topic, { qos });
  let outstanding = 0;
  paced(RATE, () => {
    if (outstanding > MAX_OUTSTANDING) return false;
    const seq = s.sent++;
    if (qos === 1) {
      outstanding++;
      pub.publish(topic, payload(s, seq), { qos: 1 }, (err) => {
        outstanding--;
        if (!err) s.confirm(seq);
      });
    } else {
      pub.publish(topic, payload(s, seq), { qos: 0 });
      s.confirm(seq);
    }
    return true;
  });
}

async function mqttIdle(i) {
  const s = stream('mqtt', 'idle', true);
  const topic = `soak/mqtt/idle/${i}`;
  const c = await mqttConnect(`soak-idle-${i}`);
  closers.push(() => c.endAsync(true).catch(() => {}));
  c.on('message', (_t, m) => onMessage(m));
  await c.subscribeAsync(topic, { qos: 1 });
  every(IDLE_PERIOD_MS, () => {
    const seq = s.sent++;
    c.publish(topic, payload(s, seq), { qos: 1 }, (err) => !err && s.confirm(seq));
  });
}

// STOMP: a small raw client (frames with content-length, receipts, client-individual acks)
class Stomp {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.receipts = new Map();
    this.onMessageFrame = null;
    this.nextReceipt = 1;
    this.connected = new Promise((resolve, reject) => {
      this.onConnected = resolve;
      socket.on('error', reject);
    });
    socket.on('data', (d) => this.#data(d));
  }
  static open(port) {
    const socket = netConnect({ port, host: '127.0.0.1' });
    const c = new Stomp(socket);
    socket.on('connect', () => socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0'));
    return c.connected.then(() => c);
  }
  send(headers, body, onReceipt) {
    let h = '';
    if (onReceipt) {
      const id = String(this.nextReceipt++);
      this.receipts.set(id, onReceipt);
      h += `receipt:${id}\n`;
    }
    for (const [k, v] of Object.entries(headers)) h += `${k}:${v}\n`;
    return this.socket.write(Buffer.concat([Buffer.from(`SEND\n${h}content-length:${body.length}\n\n`), body, Buffer.from([0])]));
  }
  frame(text) {
    this.socket.write(text);
  }
  close() {
    this.socket.end('DISCONNECT\n\n\0');
    this.socket.destroy();
  }
  #data(d) {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 10 || this.buf[start] === 13)) start++;
      const headEnd = this.buf.indexOf('\n\n', start);
      if (headEnd < 0) break;
      const head = this.buf.subarray(start, headEnd).toString('utf8').split('\n');
      const headers = {};
      for (const line of head.slice(1)) {
        const c = line.indexOf(':');
        if (c > 0 && !(line.slice(0, c) in headers)) headers[line.slice(0, c)] = line.slice(c + 1);
      }
      const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : -1;
      const bodyStart = headEnd + 2;
      const end = len >= 0 ? bodyStart + len : this.buf.indexOf(0, bodyStart);
      if (end < 0 || end >= this.buf.length) break;
      const body = this.buf.subarray(bodyStart, end);
      this.buf = this.buf.subarray(end + 1);
      this.#frame(head[0], headers, body);
    }
  }
  #frame(command, headers, body) {
    if (command === 'CONNECTED') this.onConnected();
    else if (command === 'RECEIPT') {
      const cb = this.receipts.get(headers['receipt-id']);
      this.receipts.delete(headers['receipt-id']);
      cb?.();
    } else if (command === 'MESSAGE') this.onMessageFrame?.(headers, body);
    else if (command === 'ERROR') errors.push(`STOMP ERROR: ${headers.message}`);
  }
}

async function stompBusy(persistent) {
  const s = stream('stomp', persistent ? 'persistent' : 'transient', persistent);
  const dest = persistent ? '/queue/soak.stomp.persistent' : '/topic/soak.stomp.transient';
  const sub = await Stomp.open(ports.stomp);
  const pub = await Stomp.open(ports.stomp);
  closers.push(() => sub.close(), () => pub.close());
  sub.onMessageFrame = (h, body) => {
    onMessage(body);
    if (persistent) sub.frame(`ACK\nid:${h.ack}\n\n\0`);
  };
  sub.frame(`SUBSCRIBE\nid:0\ndestination:${dest}\nack:${persistent ? 'client-individual' : 'auto'}\nprefetch-count:200\n\n\0`);
  await new Promise((r) => setTimeout(r, 200)); // the subscription exists before the first SEND
  let outstanding = 0;
  paced(RATE, () => {
    if (outstanding > MAX_OUTSTANDING) return false;
    const seq = s.sent++;
    if (persistent) {
      outstanding++;
      pub.send({ destination: dest, persistent: 'true' }, payload(s, seq), () => {
        outstanding--;
        s.confirm(seq);
      });
    } else {
      pub.send({ destination: dest }, payload(s, seq));
      s.confirm(seq);
    }
    return true;
  });
}

async function stompIdle(i) {
  const s = stream('stomp', 'idle', true);
  const dest = `/queue/soak.stomp.idle.${i}`;
  const c = await Stomp.open(ports.stomp);
  closers.push(() => c.close());
  c.onMessageFrame = (h, body) => {
    onMessage(body);
    c.frame(`ACK\nid:${h.ack}\n\n\0`);
  };
  c.frame(`SUBSCRIBE\nid:0\ndestination:${dest}\nack:client-individual\n\n\0`);
  every(IDLE_PERIOD_MS, () => {
    const seq = s.sent++;
    c.send({ destination: dest, persistent: 'true' }, payload(s, seq), () => s.confirm(seq));
  });
}

/** Open `n` clients with `make(i)`, `width` at a time. */
async function openMany(n, width, make) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await make(next++);
    }),
  );
}

// ---- run -----------------------------------------------------------------------------------------

const rows = [];
const t0 = Date.now();
let lastReport = Date.now();
const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);

async function report(phase) {
  const now = Date.now();
  const secs = (now - lastReport) / 1000;
  lastReport = now;
  const lat = win.latencies.sort((a, b) => a - b);
  const m = await metrics();
  const row = {
    t: Math.round((now - t0) / 1000),
    phase,
    amqp: Math.round(win.received.amqp / secs),
    mqtt: Math.round(win.received.mqtt / secs),
    stomp: Math.round(win.received.stomp / secs),
    p50Ms: pct(lat, 0.5),
    p99Ms: pct(lat, 0.99),
    rssMiB: Math.round(rssMiB(broker.pid)),
    heapMiB: Math.round(m.heapMiB),
    lagP99Ms: Number(m.lagP99Ms.toFixed(1)),
    lagMaxMs: Number(m.lagMaxMs.toFixed(1)),
    connections: m.connections,
  };
  rows.push(row);
  win.received = { amqp: 0, mqtt: 0, stomp: 0 };
  win.latencies = [];
  console.log(
    `${String(row.t).padStart(5)}s ${phase.padEnd(5)} amqp ${String(row.amqp).padStart(5)}/s  mqtt ${String(row.mqtt).padStart(5)}/s  stomp ${String(row.stomp).padStart(5)}/s  ` +
      `p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  rss ${row.rssMiB} MiB  heap ${row.heapMiB} MiB  lag p99 ${row.lagP99Ms} ms max ${row.lagMaxMs} ms  conns ${row.connections}`,
  );
}

let exitCode = 0;
try {
  const perProtocol = Math.floor(IDLE / 3);
  const tOpen = Date.now();
  await openMany(perProtocol, 25, amqpIdle);
  await openMany(perProtocol, 25, mqttIdle);
  await openMany(perProtocol, 25, stompIdle);
  await amqpBusy(true);
  await amqpBusy(false);
  await mqttBusy(1);
  await mqttBusy(0);
  await stompBusy(true);
  await stompBusy(false);
  console.error(`${(await metrics()).connections} connections open after ${((Date.now() - tOpen) / 1000).toFixed(1)} s; load for ${MINUTES} min`);
  lastReport = Date.now();
  win.received = { amqp: 0, mqtt: 0, stomp: 0 };
  win.latencies = [];

  const reporter = setInterval(() => void report('load'), EVERY_MS);
  await new Promise((r) => setTimeout(r, MINUTES * 60_000));
  clearInterval(reporter);
  publishing = false;

  // drain: every confirmed message should arrive
  const deadline = Date.now() + DRAIN_MS;
  // messages confirmed and not yet received, and confirms still to come
  const pending = () => [...streams.values()].reduce((n, s) => n + Math.max(0, s.confirmedCount - s.received) + (s.sent - s.confirmedCount), 0);
  while (pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  await report('drain');

  const by = {};
  for (const s of streams.values()) {
    const key = `${s.protocol}.${s.kind}`;
    by[key] ??= { streams: 0, sent: 0, confirmed: 0, received: 0, lost: 0, duplicates: 0, unconfirmed: 0 };
    const b = by[key];
    b.streams++;
    b.sent += s.sent;
    b.confirmed += s.confirmedCount;
    b.received += s.received;
    b.duplicates += s.duplicates;
    b.unconfirmed += s.sent - s.confirmedCount;
    b.lost += s.lost();
  }
  // transient streams without confirms may lose messages by design (QoS 0, /topic, no confirm): report, do not fail
  const lostGuaranteed = Object.entries(by)
    .filter(([k]) => !k.endsWith('.transient'))
    .reduce((n, [, v]) => n + v.lost, 0);
  const load = rows.filter((r) => r.phase === 'load');
  const rss = load.map((r) => r.rssMiB);
  const heap = load.map((r) => r.heapMiB);
  const summary = {
    minutes: MINUTES,
    connections: load.length > 0 ? Math.max(...load.map((r) => r.connections)) : NaN,
    ratePerBusyStream: RATE,
    idleConnections: IDLE,
    idlePeriodSeconds: IDLE_PERIOD_MS / 1000,
    messageSize: SIZE,
    accounting: by,
    latencyMs: Object.fromEntries(Object.entries(latencyByKind).map(([k, h]) => [k, { p50: histPct(h, 0.5), p99: histPct(h, 0.99), p999: histPct(h, 0.999), max: h.findLastIndex((n) => n > 0) }])),
    lostGuaranteed,
    rssMiB: { first: rss[0], last: rss.at(-1), min: Math.min(...rss), max: Math.max(...rss) },
    heapUsedMiB: { first: heap[0], last: heap.at(-1), min: Math.min(...heap), max: Math.max(...heap) },
    errors: errors.slice(0, 20),
    series: rows,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (args.out) writeFileSync(args.out, JSON.stringify(summary, null, 2));
  if (lostGuaranteed > 0) exitCode = 1;
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  publishing = false;
  for (const c of closers) {
    try {
      await c();
    } catch {}
  }
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
