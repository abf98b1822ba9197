/**
 * Stream benchmarks, Warren beside RabbitMQ streams over AMQP 0-9-1, in
 * one run, the same client (amqplib) for both:
 *
 *   append    publish N messages of S bytes to a stream with publisher confirms (a window of
 *             W unconfirmed messages): msg/s and MB/s
 *   attach    time to first message when a consumer attaches at the middle of that stream
 *             (x-stream-offset = N/2), median of 5 attaches
 *   replay    one consumer reads the whole stream from `first` (N × S bytes: 10 M × 100 B = 1 GB
 *             of payload by default): msg/s and MB/s
 *   tail1     1 consumer at `next` while M messages are published with confirms: deliveries/s
 *             and publish → delivery latency (the publisher stamps each body)
 *   tail10    the same with 10 consumers (each on its own connection)
 *   latency   1 consumer at `next` while messages are published at a steady --rate (default
 *             10,000 msg/s) for --latency-seconds: publish → delivery latency when not saturated
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/warren-build
 *   node bench/stream-bench.mjs --url rabbitmq=amqp://guest:guest@127.0.0.1:5672 \
 *        --warren-build /tmp/warren-build [--messages 10000000] [--size 100] [--tail-messages 500000]
 *
 * `--warren-build` starts Warren (bench/stream-server.mjs) in its own process for the run and
 * adds it as `warren`; `--url warren=…` measures one already running instead. One JSON line
 * per measurement on stdout (and `--out file`), then a Markdown table; progress on stderr.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeQuietly, openConnection } from './lib/connect.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string', multiple: true, default: [] },
    'warren-build': { type: 'string' },
    'warren-durability': { type: 'string', default: 'fsync' },
    messages: { type: 'string', default: '10000000' },
    size: { type: 'string', default: '100' },
    'tail-messages': { type: 'string', default: '500000' },
    window: { type: 'string', default: '10000' },
    prefetch: { type: 'string', default: '2000' },
    only: { type: 'string', default: 'append,attach,replay,tail1,tail10,latency' },
    rate: { type: 'string', default: '10000' },
    'latency-seconds': { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const N = Number(values.messages);
const SIZE = Number(values.size);
const M = Number(values['tail-messages']);
const WINDOW = Number(values.window);
const PREFETCH = Number(values.prefetch);
const ONLY = new Set(String(values.only).split(','));
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const results = [];

/** Each line also says when, how loaded the host was, and Warren's store durability (when started here). */
function emit(measured) {
  const started = measured.broker === 'warren' && values['warren-build'] ? { durability: values['warren-durability'] } : {};
  const line = { ...measured, ...started, at: new Date().toISOString(), loadavg1: +loadavg()[0].toFixed(2) };
  results.push(line);
  const text = JSON.stringify(line);
  process.stdout.write(`${text}\n`);
  if (values.out) appendFileSync(values.out, `${text}\n`);
}

/**
 * Publish `n` messages with confirms, at most `window` unconfirmed; bodies made by `body(i)`;
 * with `rate` > 0, no faster than that many per second (sent in 1 ms slices).
 */
async function publishConfirmed(conn, queue, n, body, rate = 0) {
  const ch = await conn.createConfirmChannel();
  let confirmed = 0;
  let sent = 0;
  let failed = 0;
  await new Promise((resolve, reject) => {
    let waiting = null;
    const onConfirm = (err) => {
      if (err) failed++;
      confirmed++;
      if (confirmed === n) resolve();
      else if (waiting && sent - confirmed < WINDOW / 2) {
        const w = waiting;
        waiting = null;
        w();
      }
    };
    const t0 = performance.now();
    const pump = () => {
      while (sent < n) {
        if (rate > 0 && sent >= ((performance.now() - t0) * rate) / 1000) {
          setTimeout(pump, 1);
          return;
        }
        if (sent - confirmed >= WINDOW) {
          waiting = pump;
          return;
        }
        const ok = ch.sendToQueue(queue, body(sent), {}, onConfirm);
        sent++;
        if (!ok) {
          ch.once('drain', pump);
          return;
        }
      }
    };
    ch.on('error', reject);
    pump();
  });
  await ch.close();
  if (failed > 0) throw new Error(`${failed} publishes were nacked`);
}

async function declareStream(conn, name) {
  const ch = await conn.createChannel();
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await ch.close();
}

async function deleteQueue(conn, name) {
  const ch = await conn.createChannel();
  await ch.deleteQueue(name).catch(() => undefined);
  await ch.close().catch(() => undefined);
}

/** Consume from `offset` until `n` messages arrived; ack every 500 (multiple). */
async function consumeN(conn, queue, offset, n, onMessage) {
  const ch = await conn.createChannel();
  await ch.prefetch(PREFETCH);
  let got = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m === null) return;
      got++;
      onMessage?.(m);
      if (got % 500 === 0 || got === n) ch.ack(m, true);
      if (got === n) done();
    },
    { arguments: { 'x-stream-offset': offset } },
  );
  return { ch, consumerTag, finished, count: () => got };
}

async function timeToFirst(conn, queue, offset) {
  const ch = await conn.createChannel();
  await ch.prefetch(100);
  const t0 = performance.now();
  let first;
  const arrived = new Promise((r) => (first = r));
  await ch.consume(queue, (m) => m && first(performance.now()), { arguments: { 'x-stream-offset': offset } });
  const t1 = await arrived;
  await ch.close();
  return t1 - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function tail(label, url, consumers, rate = 0) {
  const name = `bench.stream.tail${consumers}.${process.pid}.${Date.now()}`;
  const total = rate > 0 ? rate * Number(values['latency-seconds']) : M;
  const admin = await openConnection(url, 'stream-bench-admin');
  await declareStream(admin, name);
  const conns = [];
  const readers = [];
  const latencies = [];
  let firstAt = 0;
  let lastAt = 0;
  for (let i = 0; i < consumers; i++) {
    const c = await openConnection(url, `stream-bench-tail-${i}`);
    conns.push(c);
    readers.push(
      await consumeN(c, name, 'next', total, (m) => {
        const now = performance.now();
        if (firstAt === 0) firstAt = now;
        lastAt = now;
        if (i === 0 && m.content.length >= 8) latencies.push(now - m.content.readDoubleLE(0));
      }),
    );
  }
  const pub = await openConnection(url, 'stream-bench-publisher');
  const payload = Buffer.alloc(SIZE, 0x61);
  const t0 = performance.now();
  await publishConfirmed(
    pub,
    name,
    total,
    () => {
      const b = Buffer.from(payload);
      b.writeDoubleLE(performance.now(), 0);
      return b;
    },
    rate,
  );
  const published = performance.now();
  await Promise.all(readers.map((r) => r.finished));
  const t1 = performance.now();
  latencies.sort((a, b) => a - b);
  emit({
    broker: label,
    scenario: rate > 0 ? 'latency' : `tail${consumers}`,
    messages: total,
    rate,
    size: SIZE,
    consumers,
    publishMsgPerSec: Math.round(total / ((published - t0) / 1000)),
    deliveriesPerSec: Math.round((total * consumers) / ((t1 - t0) / 1000)),
    seconds: +((t1 - t0) / 1000).toFixed(2),
    latencyMsP50: +pct(latencies, 0.5).toFixed(2),
    latencyMsP99: +pct(latencies, 0.99).toFixed(2),
    firstToLastSeconds: +((lastAt - firstAt) / 1000).toFixed(2),
  });
  for (const c of [...conns, pub]) await closeQuietly(c);
  await deleteQueue(admin, name);
  await closeQuietly(admin);
}

async function measure(label, url) {
  const name = `bench.stream.main.${process.pid}.${Date.now()}`;
  const conn = await openConnection(url, 'stream-bench');
  if (ONLY.has('append') || ONLY.has('attach') || ONLY.has('replay')) {
    await declareStream(conn, name);
    const payload = Buffer.alloc(SIZE, 0x62);
    log(`[${label}] append ${N} × ${SIZE} B`);
    const t0 = performance.now();
    await publishConfirmed(conn, name, N, () => payload);
    const s = (performance.now() - t0) / 1000;
    emit({ broker: label, scenario: 'append', messages: N, size: SIZE, window: WINDOW, seconds: +s.toFixed(2), msgPerSec: Math.round(N / s), mbPerSec: +((N * SIZE) / s / 1e6).toFixed(1) });
    if (ONLY.has('attach')) {
      log(`[${label}] attach at ${Math.floor(N / 2)}`);
      const times = [];
      for (let i = 0; i < 5; i++) times.push(await timeToFirst(conn, name, Math.floor(N / 2) + i * 1000));
      const first = await timeToFirst(conn, name, 'first');
      emit({ broker: label, scenario: 'attach', messages: N, offset: Math.floor(N / 2), msToFirstMedian: +median(times).toFixed(2), msToFirstAll: times.map((t) => +t.toFixed(2)), msToFirstFromFirst: +first.toFixed(2) });
    }
    if (ONLY.has('replay')) {
      log(`[${label}] replay ${N} from first`);
      const t1 = performance.now();
      const r = await consumeN(conn, name, 'first', N);
      await r.finished;
      const rs = (performance.now() - t1) / 1000;
      await r.ch.close();
      emit({ broker: label, scenario: 'replay', messages: N, size: SIZE, prefetch: PREFETCH, seconds: +rs.toFixed(2), msgPerSec: Math.round(N / rs), mbPerSec: +((N * SIZE) / rs / 1e6).toFixed(1) });
    }
    await deleteQueue(conn, name);
  }
  await closeQuietly(conn);
  if (ONLY.has('tail1')) {
    log(`[${label}] tail, 1 consumer`);
    await tail(label, url, 1);
  }
  if (ONLY.has('tail10')) {
    log(`[${label}] tail, 10 consumers`);
    await tail(label, url, 10);
  }
  if (ONLY.has('latency')) {
    log(`[${label}] latency at ${values.rate} msg/s`);
    await tail(label, url, 1, Number(values.rate));
  }
}

function startWarren(build) {
  return new Promise((resolve, reject) => {
    const server = fileURLToPath(new URL('./stream-server.mjs', import.meta.url));
    const child = spawn(process.execPath, [server, '--build', build, '--durability', String(values['warren-durability'])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ child, url: `amqp://guest:guest@127.0.0.1:${m[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`warren exited with code ${code}`)));
  });
}

function table() {
  const rows = ['| scenario | broker | result |', '|---|---|---|'];
  for (const r of results) {
    let text = '';
    if (r.scenario === 'append') text = `${r.msgPerSec.toLocaleString('en')} msg/s, ${r.mbPerSec} MB/s (${r.messages.toLocaleString('en')} × ${r.size} B, confirms, window ${r.window})`;
    if (r.scenario === 'attach') text = `${r.msToFirstMedian} ms to the first message at offset ${r.offset.toLocaleString('en')} (median of 5; from first: ${r.msToFirstFromFirst} ms)`;
    if (r.scenario === 'replay') text = `${r.msgPerSec.toLocaleString('en')} msg/s, ${r.mbPerSec} MB/s (${((r.messages * r.size) / 1e9).toFixed(2)} GB payload, prefetch ${r.prefetch})`;
    if (r.scenario === 'latency') text = `publish → delivery latency p50 ${r.latencyMsP50} ms / p99 ${r.latencyMsP99} ms at ${r.rate.toLocaleString('en')} msg/s (1 consumer, confirms)`;
    if (r.scenario.startsWith('tail')) text = `${r.deliveriesPerSec.toLocaleString('en')} deliveries/s, publish ${r.publishMsgPerSec.toLocaleString('en')} msg/s, latency p50 ${r.latencyMsP50} ms / p99 ${r.latencyMsP99} ms`;
    rows.push(`| ${r.scenario} | ${r.broker} | ${text} |`);
  }
  return rows.join('\n');
}

const targets = values.url.map((u) => [u.slice(0, u.indexOf('=')), u.slice(u.indexOf('=') + 1)]);
let warren = null;
if (values['warren-build']) {
  warren = await startWarren(values['warren-build']);
  targets.push(['warren', warren.url]);
}
try {
  for (const [label, url] of targets) await measure(label, url);
} finally {
  if (warren) {
    warren.child.removeAllListeners('exit');
    warren.child.kill('SIGTERM');
  }
}
process.stdout.write(`\n${table()}\n`);
