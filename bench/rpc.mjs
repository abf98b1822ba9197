#!/usr/bin/env node
/**
 * RPC over direct reply-to: a client sends requests with
 * `reply-to: amq.rabbitmq.reply-to` and a correlation id to a server queue; the server
 * answers each on the default exchange. Measures round trips per second and round-trip
 * latency with `--inflight` requests outstanding (1 = strict ping-pong, 32 = pipelined).
 * Client and server run in one process on two connections (the broker is the subject).
 *
 *   node bench/rpc.mjs --url amqp://guest:guest@127.0.0.1:5672 --label rabbitmq --inflight 32 --seconds 10
 *
 * Prints one JSON line; exits 1 if a reply is lost or mismatched.
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
    inflight: { type: 'string', default: '1' },
    size: { type: 'string', default: '128' },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const inflight = Number(values.inflight);
const body = Buffer.alloc(Number(values.size), 'x');
const REPLY_TO = 'amq.rabbitmq.reply-to';

const serverConn = await amqp.connect(values.url, { noDelay: true });
const clientConn = await amqp.connect(values.url, { noDelay: true });
const server = await serverConn.createChannel();
const client = await clientConn.createChannel();
const queue = `bench.rpc.${process.pid}.${Date.now()}`;
await server.assertQueue(queue, { durable: false, exclusive: false, autoDelete: true });
await server.prefetch(Math.max(inflight * 2, 10));
await server.consume(queue, (m) => {
  if (!m) return;
  server.sendToQueue(m.properties.replyTo, m.content, { correlationId: m.properties.correlationId });
  server.ack(m);
});

const hist = new LatencyHistogram();
const sentAt = new Map();
let next = 0;
let measuring = false;
let stopping = false;
let completed = 0;
let mismatched = 0;

function send() {
  const id = String(next++);
  sentAt.set(id, performance.now());
  client.sendToQueue(queue, body, { replyTo: REPLY_TO, correlationId: id });
}

let drained;
const allReplied = new Promise((resolve) => (drained = resolve));
await client.consume(
  REPLY_TO,
  (m) => {
    if (!m) return;
    const t0 = sentAt.get(m.properties.correlationId);
    if (t0 === undefined) {
      mismatched++;
      return;
    }
    sentAt.delete(m.properties.correlationId);
    if (measuring) {
      hist.recordMs(performance.now() - t0);
      completed++;
    }
    if (!stopping) send();
    else if (sentAt.size === 0) drained();
  },
  { noAck: true },
);

for (let i = 0; i < inflight; i++) send();
await new Promise((r) => setTimeout(r, warmup * 1000));
measuring = true;
const start = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const elapsed = (performance.now() - start) / 1000;
stopping = true;
const lost = await Promise.race([allReplied.then(() => 0), new Promise((r) => setTimeout(() => r(sentAt.size), 10_000))]);
await client.close();
await server.deleteQueue(queue).catch(() => undefined);
await serverConn.close();
await clientConn.close();

const s = hist.summary();
const result = {
  scenario: `rpc-${inflight}`,
  label: values.label,
  inflight,
  seconds,
  size: body.length,
  round_trips_per_s: Math.round(completed / elapsed),
  latency_ms: { p50: s.p50, p95: s.p95, p99: s.p99 },
  lost,
  mismatched,
  ok: lost === 0 && mismatched === 0,
};
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
