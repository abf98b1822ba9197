/**
 * The consumer of bench/sizes.mjs: one amqplib connection, manual acks, prefetch as given,
 * publish→deliver latency read from the body's first 8 bytes (epoch milliseconds as a double,
 * `performance.timeOrigin + performance.now()`, so a publisher in another process on the same
 * host stamps on the same clock).
 *
 * In the bench's process (`--clients one`) it is `startConsumer`; in a process of its own
 * (`--clients split`, the default: publisher and consumer each get a JavaScript thread, as
 * two services would) the bench forks this file and drives it over IPC:
 *   child → parent {ready}; parent → child {window: [from, to]}; parent → child {drain: n};
 *   child → parent {stats}; then it closes and exits.
 */
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';

export const epochNow = () => performance.timeOrigin + performance.now();

/**
 * @param {string} url
 * @param {string} queue
 * @param {number} prefetch
 */
export async function startConsumer(url, queue, prefetch) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  /** @type {number[]} */
  const latencies = [];
  let consumed = 0;
  let consumedTotal = 0;
  let from = Infinity;
  let to = Infinity;
  const cpuBefore = process.cpuUsage();
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    const now = epochNow();
    consumedTotal++;
    if (now >= from && now < to && msg.content.length >= 8) {
      latencies.push(now - msg.content.readDoubleLE(0));
      consumed++;
    }
    ch.ack(msg);
  });
  return {
    /** count what arrives in [start, end) (epoch ms) */
    window(/** @type {number} */ start, /** @type {number} */ end) {
      from = start;
      to = end;
    },
    /** wait (at most 30 s) until `expected` messages arrived in all; the figures, then close */
    async drain(/** @type {number} */ expected) {
      for (let waited = 0; consumedTotal < expected && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      const cpu = process.cpuUsage(cpuBefore);
      await ch.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
      latencies.sort((a, b) => a - b);
      const q = (/** @type {number} */ p) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 10) / 10 : null);
      return { consumed, consumedTotal, p50: q(0.5), p99: q(0.99), cpuMicros: cpu.user + cpu.system };
    },
  };
}

// forked by bench/sizes.mjs: argv url queue prefetch
if (process.send && process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [url, queue, prefetch] = process.argv.slice(2);
  const consumer = await startConsumer(url, queue, Number(prefetch));
  process.on('message', (/** @type {any} */ m) => {
    if (m.window) consumer.window(m.window[0], m.window[1]);
    if (m.drain !== undefined) {
      void consumer.drain(m.drain).then((stats) => {
        process.send?.({ stats }, () => process.exit(0));
      });
    }
  });
  process.send({ ready: true });
}
