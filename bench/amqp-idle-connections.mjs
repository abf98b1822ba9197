/**
 * Memory per idle AMQP connection: open `--connections` (default 1,000) AMQP 0-9-1
 * connections, each with one open channel and the server's heartbeat (as amqplib accepts it),
 * then idle, and read the broker's resident memory (/proc/<pid>/status VmRSS) before and
 * after. Raw sockets (bench/lib/amqp-wire.mjs), so the generator stays small; one timer sends
 * every connection's heartbeats. Needs `--pid` (for RabbitMQ, its beam.smp). With
 * `--gc-signal` the broker (bench/warren-server.mjs) is sent SIGUSR2 to collect garbage
 * before each reading, so that garbage from connection setup is not counted as connection
 * cost; RabbitMQ collects per process as it goes.
 *
 *   node bench/amqp-idle-connections.mjs --url amqp://guest:guest@127.0.0.1:5672 --pid 1234 --connections 1000
 */
import { parseArgs } from 'node:util';
import { AmqpWire } from './lib/amqp-wire.mjs';
import { memoryFields, rssKiB as brokerRss } from './lib/broker-memory.mjs';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672' },
    label: { type: 'string', default: '' },
    pid: { type: 'string', default: '' },
    connections: { type: 'string', default: '1000' },
    settle: { type: 'string', default: '3' },
    'gc-signal': { type: 'boolean', default: false },
  },
});
const pid = Number(o.pid);
const n = Number(o.connections);
if (!pid) throw new Error('--pid is required');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** resident memory in KiB, after a collection when the broker takes the signal */
const rssKiB = () => brokerRss(pid, o['gc-signal']);

await sleep(500);
const before = await rssKiB();
/** @type {AmqpWire[]} */
const connections = [];
const errors = [];
const started = Date.now();
for (let i = 0; i < n; i += 100) {
  const batch = [];
  for (let k = i; k < Math.min(n, i + 100); k++) batch.push(AmqpWire.open(o.url).catch((err) => errors.push(err.message)));
  for (const c of await Promise.all(batch)) if (c instanceof AmqpWire) connections.push(c);
}
const connectSeconds = (Date.now() - started) / 1000;
const heartbeat = connections[0]?.heartbeat ?? 0;
const beats = heartbeat > 0 ? setInterval(() => connections.forEach((c) => c.beat()), (heartbeat * 1000) / 2) : null;
await sleep(Number(o.settle) * 1000);
const after = await rssKiB();
const broken = connections.filter((c) => c.error).length;
if (beats) clearInterval(beats);
for (const c of connections) c.close();
await sleep(2000);
const released = await rssKiB();
const result = {
  scenario: 'amqp-idle-connections',
  label: o.label,
  connections: n,
  channels_per_connection: 1,
  heartbeat_s: heartbeat,
  gc_before_reading: o['gc-signal'],
  ...memoryFields(n, connectSeconds, before, after, released),
  ok: connections.length === n && broken === 0,
  ...(errors.length + broken > 0 ? { errors: [...new Set(errors)].slice(0, 3).concat(broken ? [`${broken} connections closed while idle`] : []) } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
