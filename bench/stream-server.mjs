/**
 * Warren with only the AMQP plugin, from a compiled build, for the stream benchmarks: the
 * broker runs in its own process (as RabbitMQ does), with its data directory on the same
 * disk as RabbitMQ's. Prints `ready <port>` once listening; stops on SIGTERM and removes its
 * data directory (unless --keep).
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/warren-build
 *   node bench/stream-server.mjs --build /tmp/warren-build [--port 0] [--data-dir dir] [--durability fsync|write] [--kafka]
 *
 * With --kafka the Kafka plugin listens too (port 0), and `kafka <port>` is printed before `ready`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    build: { type: 'string', default: 'dist' },
    port: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
    durability: { type: 'string', default: 'fsync' },
    keep: { type: 'boolean', default: false },
    kafka: { type: 'boolean', default: false },
  },
});
const build = resolve(values.build ?? 'dist');
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
const plugins = { amqp: () => import(pathToFileURL(join(build, 'plugins', 'amqp', 'index.js')).href) };
if (values.kafka) plugins.kafka = () => import(pathToFileURL(join(build, 'plugins', 'kafka', 'index.js')).href);
const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'warren-bench-streams-'));
const broker = new Broker(
  {
    dataDir,
    log: { level: 'warn' },
    amqp: { port: Number(values.port), host: '127.0.0.1' },
    store: { durability: values.durability },
    ...(values.kafka ? { kafka: { port: 0, host: '127.0.0.1' } } : {}),
  },
  { plugins },
);
await broker.start();
if (values.kafka) process.stdout.write(`kafka ${broker.address('kafka').port}\n`);
process.stdout.write(`ready ${broker.address('amqp').port}\n`);
const stop = async () => {
  await broker.stop();
  if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
