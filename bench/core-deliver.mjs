/**
 * CPU per message through the core's whole hot path, without sockets or codecs: a session
 * publishes `--messages` transient messages (128-byte body) and a consumer of the same
 * session takes them with manual acks (prefetch 1000), acked in batches between publishes as
 * a front-end would (never from inside the deliver callback, docs/invariants.md rule 1):
 * publish → route → enqueue → dispatch → deliver → ack. Kinds:
 *   classic   one classic queue, one consumer
 *   priority  one queue with x-max-priority 10, priorities spread over 0–9
 *   fanout    amq.fanout to 4 queues, one consumer each
 * Like bench/core-publish.mjs it measures this process's CPU time (the broker's), so two
 * builds compare on a busy machine where socket benchmarks only measure the noise.
 *
 *   npm run build && node bench/core-deliver.mjs [--build dist] [--label x] [--kind classic]
 *        [--messages 200000] [--out bench/results/<file>.jsonl]
 */
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string', default: process.env.WARREN_BUILD ?? 'dist' },
    label: { type: 'string', default: '' },
    messages: { type: 'string', default: '200000' },
    kind: { type: 'string', default: 'classic' },
    out: { type: 'string' },
  },
});
const build = resolve(String(args.build));
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
const { Message } = await import(pathToFileURL(join(build, 'src', 'core', 'message.js')).href);

const n = Number(args.messages);
const kind = String(args.kind);
const queues = kind === 'fanout' ? ['cd-0', 'cd-1', 'cd-2', 'cd-3'] : ['cd-0'];
const broker = new Broker({ log: { level: 'error' } }, { plugins: {} });
await broker.start();
try {
  const conn = broker.core.connect({ protocol: 'bench', vhost: '/', user: 'guest', peerHost: '', peerPort: 0 });
  let delivered = 0;
  let lastTag = 0;
  const session = conn.openSession({
    deliver(_tag, deliveryTag) {
      delivered++;
      lastTag = deliveryTag;
    },
    consumerCancelled() {},
    returned() {},
    confirmed() {},
  });
  for (const q of queues) {
    session.declareQueue(q, kind === 'priority' ? { arguments: { 'x-max-priority': 10 } } : {});
    if (kind === 'fanout') session.bindQueue(q, 'amq.fanout', '');
  }
  session.qos(1000, false);
  for (const q of queues) session.consume(q, {});
  const exchange = kind === 'fanout' ? 'amq.fanout' : '';
  const body = Buffer.alloc(128);
  const props = Array.from({ length: 10 }, (_, p) => (kind === 'priority' ? { priority: p } : {}));
  const expected = n * queues.length;
  let acked = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    session.publish(new Message(exchange, 'cd-0', props[i % 10], body), false);
    if ((i & 255) === 255) {
      if (lastTag > acked) session.ack((acked = lastTag), true);
      if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
    }
  }
  while (delivered < expected) {
    if (lastTag > acked) session.ack((acked = lastTag), true);
    await new Promise((r) => setImmediate(r));
  }
  if (lastTag > acked) session.ack(lastTag, true);
  const cpu = process.cpuUsage(cpu0);
  const line = JSON.stringify({
    bench: 'core-deliver',
    time: new Date().toISOString(),
    label: args.label,
    kind,
    messages: n,
    deliveries: delivered,
    cpu_us_per_delivery: Number(((cpu.user + cpu.system) / delivered).toFixed(3)),
    wall_ms: Math.round(performance.now() - t0),
  });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
  conn.close();
} finally {
  await broker.stop();
}
