/**
 * Crash test of the whole broker: the real `warren start` on a data
 * directory; publishers with confirms on several durable queues (and a durable fan-out
 * exchange reaching two of them), persistent messages numbered per stream; consumers acking
 * some queues (one at a time, or in multiple-acks of 10 and 50) while one queue only grows
 * and so pages out of memory; SIGKILL at a random moment; restart on the same directory;
 * again, for --cycles cycles. A few restarts are killed while the broker is still recovering.
 * Then everything is drained and checked (rules in bench/broker-crash-ledger.mjs): every
 * confirmed message present, per-queue order kept, duplicates only after a crash and only for
 * messages unacked (or whose ack was not yet durable) at it; unconfirmed messages may go.
 * Finally a clean stop and one more start must find every queue empty.
 *
 *   npm run build && node bench/broker-crash.mjs [--cycles 20] [--queues 4] [--publishers 3]
 *        [--min-ms 300] [--max-ms 3000] [--window 300] [--prefetch 200] [--kill-in-recovery 0.15]
 *        [--durability fsync|write] [--segment-size BYTES] [--seed N] [--build DIR] [--dir DIR]
 *
 * stdout: one JSON summary line; progress on stderr. Exit status 1 on any loss, reorder,
 * corruption or broken rule; 2 when the broker would not start.
 */
import amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bodyOf, Ledger } from './broker-crash-ledger.mjs';
import { loadBuild, dirUsage, prng, rssMiB, sleep, startBroker } from './broker-process.mjs';

const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20' },
    queues: { type: 'string', default: '4' },
    publishers: { type: 'string', default: '3' },
    'min-ms': { type: 'string', default: '300' },
    'max-ms': { type: 'string', default: '3000' },
    window: { type: 'string', default: '300' },
    prefetch: { type: 'string', default: '200' },
    'kill-in-recovery': { type: 'string', default: '0.15' },
    'drain-timeout': { type: 'string', default: '180' },
    durability: { type: 'string', default: 'fsync' },
    'segment-size': { type: 'string' },
    seed: { type: 'string' },
    build: { type: 'string' },
    dir: { type: 'string' },
  },
});

const build = await loadBuild(args.build);
const cycles = Number(args.cycles);
const queueCount = Math.max(2, Number(args.queues));
const publisherCount = Math.max(1, Number(args.publishers));
const window = Number(args.window);
const prefetch = Number(args.prefetch);
const seed = Number(args.seed ?? Date.now() % 1e9);
const random = prng(seed);
const dataDir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-broker-crash-'));
/** @type {Record<string, string>} */
const brokerEnv = { WARREN_STORE_DURABILITY: String(args.durability) };
if (args['segment-size']) brokerEnv.WARREN_STORE_SEGMENT_SIZE = String(args['segment-size']);

const queues = Array.from({ length: queueCount }, (_, i) => `crash.q${i}`);
/** the queue nobody consumes until the end: its backlog grows across cycles and pages out */
const backlogQueue = queues[0];
/** the fan-out exchange reaches the last two queues: one journal record, two queue entries */
const FAN = 'crash.fan';
const fanQueues = queues.slice(-2);
/** consumed queues ack one at a time, or with `multiple` every 10 or 50 deliveries */
const ACK_EVERY = [1, 10, 50];

const ledger = new Ledger();
/** @type {{ publisher: number, stream: import('./broker-crash-ledger.mjs').Stream, queue: string | null }[][]} */
const routes = [];
for (let p = 0; p < publisherCount; p++) {
  const mine = queues.map((q) => ({ publisher: p, stream: ledger.addStream(`p${p}.${q}`, [q]), queue: /** @type {string | null} */ (q) }));
  mine.push({ publisher: p, stream: ledger.addStream(`p${p}.${FAN}`, fanQueues), queue: null });
  routes.push(mine);
}

const run = {
  cycles: 0,
  recovery_kills: 0,
  start_ms: /** @type {number[]} */ ([]),
  truncated_tails: 0,
  truncated_bytes: 0,
  damaged: /** @type {any[]} */ ([]),
  broker_warnings: /** @type {string[]} */ ([]),
  max_rss_mib: 0,
  max_backlog: 0,
};

/**
 * Start the broker and wait for 'broker started'; fold its recovery line into `run`.
 * @returns {Promise<import('./broker-process.mjs').BrokerProcess>}
 */
async function start() {
  const b = startBroker({ build, dataDir, env: brokerEnv });
  const timeout = setTimeout(() => b.kill(), 120_000);
  try {
    const { startMs } = await b.started;
    run.start_ms.push(Math.round(startMs));
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ bench: 'broker-crash', seed, ok: false, failures: [`broker did not start: ${/** @type {Error} */ (e).message}`] })}\n`);
    process.exit(2);
  } finally {
    clearTimeout(timeout);
  }
  const r = b.find('vhost recovered');
  if (r) {
    run.truncated_tails += r.truncated.length;
    for (const t of r.truncated) run.truncated_bytes += t.bytes ?? 0;
    if (r.damaged.length > 0) {
      run.damaged.push(...r.damaged);
      ledger.fail(`recovery found damaged sealed segments: ${JSON.stringify(r.damaged)}`);
    }
  }
  return b;
}

/** Remember the broker's warnings and errors (a truncated torn tail is expected; the rest is news). */
function collectWarnings(/** @type {import('./broker-process.mjs').BrokerProcess} */ b) {
  for (const r of b.records()) {
    if ((r.level === 'warn' || r.level === 'error') && run.broker_warnings.length < 20) run.broker_warnings.push(`${r.level}: ${r.msg}`);
  }
}

/**
 * Connect the clients of one incarnation: check that the durable topology came back, declare
 * it (idempotent), start consumers (unless `consume` is 'none') and publishers (if `publish`).
 * @param {string} url @param {{ publish: boolean, consume: 'some' | 'all' }} what
 */
async function clients(url, what) {
  /** @type {import('amqplib').ChannelModel[]} */
  const connections = [];
  let closed = 0;
  const connect = async () => {
    const c = await amqp.connect(url);
    c.on('error', () => undefined);
    c.on('close', () => closed++);
    connections.push(c);
    return c;
  };
  const admin = await connect();
  let ch = await admin.createChannel();
  ch.on('error', () => undefined);
  if (ledger.incarnation > 1) {
    for (const q of queues) {
      try {
        await ch.checkQueue(q);
      } catch {
        ledger.fail(`durable queue ${q} did not come back`);
        ch = await admin.createChannel();
        ch.on('error', () => undefined);
      }
    }
  }
  for (const q of queues) await ch.assertQueue(q, { durable: true });
  await ch.assertExchange(FAN, 'fanout', { durable: true });
  for (const q of fanQueues) await ch.bindQueue(q, FAN, '');

  const state = { running: true, lastDelivery: Date.now() };
  /** @type {NodeJS.Timeout[]} */
  const timers = [];
  const consumed = what.consume === 'all' ? queues : queues.filter((q) => q !== backlogQueue);
  const consumerConn = await connect();
  for (let i = 0; i < consumed.length; i++) {
    const q = consumed[i];
    const every = what.consume === 'all' ? 1 : ACK_EVERY[i % ACK_EVERY.length];
    const cch = await consumerConn.createChannel();
    cch.on('error', () => undefined);
    await cch.prefetch(prefetch);
    /** @type {({ qs: any, seq: number } | null)[]} */
    let pending = [];
    /** @type {import('amqplib').Message | null} */
    let last = null;
    const ackPending = () => {
      // after the SIGKILL is sent an ack cannot reach the broker: what is pending stays unacked
      if (!last || !state.running) return;
      try {
        cch.ack(last, true);
      } catch {
        return; // the channel is gone: these stay unacked
      }
      for (const r of pending) if (r) ledger.ack(r.qs, r.seq);
      pending = [];
      last = null;
    };
    await cch.consume(q, (m) => {
      if (!m) return;
      state.lastDelivery = Date.now();
      pending.push(ledger.deliver(q, m.content, m.fields.redelivered));
      last = m;
      if (pending.length >= every) ackPending();
    });
    if (every > 1) timers.push(setInterval(ackPending, 100));
  }

  if (what.publish) {
    for (const mine of routes) {
      const pc = await connect();
      const pch = await pc.createConfirmChannel();
      pch.on('error', () => undefined);
      const pub = { outstanding: 0, rr: Math.floor(random() * mine.length) };
      const pump = () => {
        let n = 0;
        while (state.running && pub.outstanding < window && n < 64) {
          const route = mine[pub.rr++ % mine.length];
          const s = route.stream;
          const seq = s.next;
          const cb = (/** @type {any} */ err) => {
            pub.outstanding--;
            if (!err) ledger.confirm(s, seq, false);
            else if (String(err.message).includes('nacked')) ledger.confirm(s, seq, true);
            if (pub.outstanding < window / 2) pump();
          };
          try {
            if (route.queue) pch.sendToQueue(route.queue, bodyOf(s.name, s.index, seq), { persistent: true }, cb);
            else pch.publish(FAN, '', bodyOf(s.name, s.index, seq), { persistent: true }, cb);
          } catch {
            return; // the connection is gone
          }
          ledger.publish(s);
          pub.outstanding++;
          n++;
        }
        if (state.running && pub.outstanding < window) setImmediate(pump);
      };
      pump();
    }
  }
  return {
    state,
    /** every connection has seen its socket close (after a kill) */
    allClosed: () => closed >= connections.length,
    admin,
    async close() {
      state.running = false;
      for (const t of timers) clearInterval(t);
      for (const c of connections) await c.close().catch(() => undefined);
    },
    stopTimers() {
      state.running = false;
      for (const t of timers) clearInterval(t);
    },
  };
}

/** A restart killed while the broker recovers: recovery itself must survive SIGKILL. */
async function killDuringRecovery() {
  const last = run.start_ms.at(-1) ?? 200;
  const b = startBroker({ build, dataDir, env: brokerEnv });
  await Promise.race([b.started, sleep(random() * last * 1.2)]).catch(() => undefined);
  await b.kill();
  run.recovery_kills++;
}

async function cycle(/** @type {number} */ n) {
  if (n > 1 && random() < Number(args['kill-in-recovery'])) await killDuringRecovery();
  const b = await start();
  const c = await clients((await b.started).url, { publish: true, consume: 'some' });
  await sleep(Number(args['min-ms']) + random() * (Number(args['max-ms']) - Number(args['min-ms'])));
  run.max_rss_mib = Math.max(run.max_rss_mib, Math.round(rssMiB(b.pid)));
  c.stopTimers();
  await b.kill();
  const deadline = Date.now() + 15_000;
  while (!c.allClosed() && Date.now() < deadline) await sleep(10);
  if (!c.allClosed()) ledger.fail('client connections still open 15 s after the kill');
  collectWarnings(b);
  ledger.crash();
  run.cycles++;
  const k = ledger.counts;
  process.stderr.write(
    `cycle ${n}: start ${run.start_ms.at(-1)} ms, published ${k.published}, confirmed ${k.confirmed}, delivered ${k.delivered}, ` +
      `duplicates ${k.duplicates}, failures ${ledger.failures.length}\n`,
  );
}

/** Consume every queue to empty, ack everything, stop cleanly; one more start must find nothing. */
async function drainAndVerify() {
  const b = await start();
  const c = await clients((await b.started).url, { publish: false, consume: 'all' });
  const check = await c.admin.createChannel();
  const t0 = Date.now();
  const deadline = t0 + Number(args['drain-timeout']) * 1000;
  let depth = 0;
  for (const q of queues) depth += (await check.checkQueue(q)).messageCount;
  run.max_backlog = depth;
  for (;;) {
    let left = 0;
    for (const q of queues) left += (await check.checkQueue(q)).messageCount;
    if (left === 0 && Date.now() - c.state.lastDelivery > 1000) break;
    if (Date.now() > deadline) {
      ledger.fail(`drain: ${left} messages still queued after ${args['drain-timeout']} s`);
      break;
    }
    await sleep(200);
  }
  const drainMs = Date.now() - t0;
  await c.close();
  const stopped = await b.stop();
  if (stopped.code !== 0) ledger.fail(`clean stop exited with ${stopped.code} (${stopped.signal})`);
  collectWarnings(b);
  ledger.finish();

  ledger.restart();
  const again = await start();
  const recovered = again.find('vhost recovered');
  if (!recovered?.cleanShutdown) ledger.fail('the restart after a clean stop did not see a clean shutdown');
  const conn = await amqp.connect((await again.started).url);
  const ch = await conn.createChannel();
  for (const q of queues) {
    const { messageCount } = await ch.checkQueue(q);
    if (messageCount !== 0) ledger.fail(`${q} holds ${messageCount} messages after everything was acked and the broker stopped cleanly`);
  }
  await conn.close();
  await again.stop();
  collectWarnings(again);
  return { drainMs, backlog: depth, disk: dirUsage(dataDir) };
}

const began = Date.now();
/** @type {Awaited<ReturnType<typeof drainAndVerify>> | null} */
let final = null;
try {
  for (let n = 1; n <= cycles; n++) await cycle(n);
  final = await drainAndVerify();
} catch (e) {
  // a broker that died by itself, refused connections or hung is a finding, not a bench crash
  ledger.fail(`aborted: ${/** @type {Error} */ (e)?.stack ?? e}`);
}
if (!args.dir) rmSync(dataDir, { recursive: true, force: true });

const sorted = [...run.start_ms].sort((a, b) => a - b);
const summary = {
  bench: 'broker-crash',
  seed,
  durability: args.durability,
  cycles: run.cycles,
  recovery_kills: run.recovery_kills,
  queues: queueCount,
  publishers: publisherCount,
  ...ledger.counts,
  final_backlog: final?.backlog ?? null,
  drain_ms: final?.drainMs ?? null,
  start_ms: { p50: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) },
  truncated_tails: run.truncated_tails,
  truncated_bytes: run.truncated_bytes,
  damaged_segments: run.damaged.length,
  max_rss_mib: run.max_rss_mib,
  data_dir_bytes_after: final?.disk.bytes ?? null,
  broker_warnings: run.broker_warnings,
  seconds: Math.round((Date.now() - began) / 1000),
  failures: ledger.failures,
  ok: final !== null && ledger.failures.length === 0 && ledger.counts.lost === 0 && ledger.counts.out_of_order === 0 && ledger.counts.corrupt === 0,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
