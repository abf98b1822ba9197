#!/usr/bin/env node
/**
 * Priority queue throughput: one publisher → a queue with x-max-priority 10 → one
 * consumer with manual acks and prefetch 100; messages carry priorities 0–9 in turn. A
 * bounded window (published − consumed ≤ --window) keeps latency meaningful. Checks that
 * nothing is lost and that, within each priority level, order is kept.
 *
 *   node bench/priority.mjs --url amqp://guest:guest@127.0.0.1:5672 --label rabbitmq --seconds 10
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { LatencyHistogram } from './lib/histogram.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672' },
    label: { type: 'string', default: 'broker' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    window: { type: 'string', default: '200' },
    size: { type: 'string', default: '128' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const windowSize = Number(values.window);
const size = Math.max(16, Number(values.size));
const LEVELS = 10;

const pubConn = await amqp.connect(values.url, { noDelay: true });
const subConn = await amqp.connect(values.url, { noDelay: true });
const pub = await pubConn.createChannel();
const sub = await subConn.createChannel();
const queue = `bench.priority.${process.pid}.${Date.now()}`;
await pub.assertQueue(queue, { durable: false, arguments: { 'x-max-priority': LEVELS } });

const hist = new LatencyHistogram();
let published = 0;
let consumed = 0;
let measuredConsumed = 0;
let measuring = false;
let stopping = false;
let outOfOrder = 0;
const lastSeqPerLevel = new Array(LEVELS).fill(-1);
let resumePublisher = null;

function publishSome() {
  while (!stopping && published - consumed < windowSize) {
    const body = Buffer.alloc(size);
    body.writeDoubleLE(performance.now(), 0);
    body.writeUInt32LE(published, 8);
    const priority = published % LEVELS;
    published++;
    if (!pub.sendToQueue(queue, body, { priority })) {
      pub.once('drain', publishSome);
      return;
    }
  }
  if (!stopping) resumePublisher = publishSome;
}

await sub.prefetch(100);
await sub.consume(queue, (m) => {
  if (!m) return;
  const seq = m.content.readUInt32LE(8);
  const level = m.properties.priority ?? 0;
  if (seq <= lastSeqPerLevel[level]) outOfOrder++;
  lastSeqPerLevel[level] = seq;
  if (measuring) {
    hist.recordMs(performance.now() - m.content.readDoubleLE(0));
    measuredConsumed++;
  }
  consumed++;
  sub.ack(m);
  if (resumePublisher && published - consumed < windowSize / 2) {
    const f = resumePublisher;
    resumePublisher = null;
    f();
  }
});

publishSome();
await new Promise((r) => setTimeout(r, warmup * 1000));
measuring = true;
const start = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const elapsed = (performance.now() - start) / 1000;
stopping = true;
const t0 = Date.now();
while (consumed < published && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
await sub.close();
await pub.deleteQueue(queue).catch(() => undefined);
await pubConn.close();
await subConn.close();

const s = hist.summary();
const result = {
  scenario: 'priority',
  label: values.label,
  seconds,
  size,
  window: windowSize,
  levels: LEVELS,
  msgs_per_s: Math.round(measuredConsumed / elapsed),
  latency_ms: { p50: s.p50, p95: s.p95, p99: s.p99 },
  published,
  consumed,
  lost: published - consumed,
  out_of_order_within_level: outOfOrder,
  ok: published === consumed && outOfOrder === 0,
};
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
