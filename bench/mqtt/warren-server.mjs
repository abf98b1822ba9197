/**
 * Warren with only the MQTT plugin, from a compiled build, for the MQTT benchmarks: the
 * broker runs in its own process so its CPU and memory can be read from /proc. Prints
 * `ready <port>` once listening; stops on SIGTERM. Run with --expose-gc, SIGUSR2 runs a full
 * garbage collection (the idle-connections scenario asks for one before reading memory, so
 * that garbage from connection setup is not counted as connection cost).
 *
 *   node bench/mqtt/warren-server.mjs --build <dir> --port 0 [--prefetch 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { build: { type: 'string' }, port: { type: 'string', default: '0' }, prefetch: { type: 'string', default: '100' } } });
const build = resolve(values.build ?? 'dist');
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
const plugins = { mqtt: () => import(pathToFileURL(join(build, 'plugins', 'mqtt', 'index.js')).href) };
const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-mqtt-'));
const broker = new Broker(
  { dataDir, log: { level: 'warn' }, mqtt: { port: Number(values.port), host: '127.0.0.1', ws_enabled: false, prefetch: Number(values.prefetch) } },
  { plugins },
);
await broker.start();
process.stdout.write(`ready ${broker.address('mqtt').port}\n`);
const stop = async () => {
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGUSR2', () => globalThis.gc?.());
process.on('SIGINT', stop);
