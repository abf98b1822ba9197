/**
 * Warren from a compiled build, in its own process, for bench/all.mjs and bench/scaling.mjs:
 * the protocols asked for (`--protocols amqp,mqtt,stomp`), each on an OS-chosen loopback
 * port, a fresh temporary data directory (removed on exit), no management plugin (RabbitMQ's
 * holds 15672 on the bench machine) and MQTT prefetch 100 (= Mosquitto's
 * max_inflight_messages in the MQTT runs). Prints `ready {"amqp":port,…}` once listening;
 * stops on SIGTERM. Run with --expose-gc: SIGUSR2 runs a full garbage collection (the
 * idle-connection scenarios ask for one before reading memory).
 *
 *   node --expose-gc bench/warren-server.mjs --build <dir> [--protocols amqp,mqtt,stomp]
 *        [--data-dir <dir>] [--max-message-size <bytes>] [--large-message-threshold <bytes>]
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gcOnSignal } from './lib/memory-split.mjs';

const { values } = parseArgs({
  options: {
    build: { type: 'string', default: 'dist' },
    protocols: { type: 'string', default: 'amqp,mqtt,stomp' },
    'mqtt-prefetch': { type: 'string', default: '100' },
    // a data directory to use and keep (a restart: bench/mqtt/reconnect-storm.mjs); default a fresh one, removed at stop
    'data-dir': { type: 'string' },
    // broker-wide max_message_size and large_message_threshold, in bytes (the large-body tests)
    'max-message-size': { type: 'string' },
    'large-message-threshold': { type: 'string' },
    // append where the memory sits after each SIGUSR2 GC (bench/lib/memory-split.mjs)
    'memory-log': { type: 'string' },
  },
});
const build = resolve(values.build ?? 'dist');
const protocols = String(values.protocols).split(',').filter(Boolean);
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
/** @type {Record<string, () => Promise<any>>} */
const plugins = {};
/** @type {Record<string, any>} */
const options = { dataDir: values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'warren-bench-')), log: { level: 'warn' } };
if (values['max-message-size']) options.maxMessageSize = Number(values['max-message-size']);
if (values['large-message-threshold']) options.largeMessageThreshold = Number(values['large-message-threshold']);
for (const p of protocols) {
  plugins[p] = () => import(pathToFileURL(join(build, 'plugins', p, 'index.js')).href);
  options[p] = { port: 0, host: '127.0.0.1' };
}
if (options.mqtt) options.mqtt.ws_enabled = false;
// `--mqtt-prefetch default`: the plugin's own default (bench/mqtt-clients.mjs)
if (options.mqtt && values['mqtt-prefetch'] !== 'default') options.mqtt.prefetch = Number(values['mqtt-prefetch']);
if (options.stomp) options.stomp.ws_enabled = false;
const broker = new Broker(options, { plugins });
await broker.start();
/** @type {Record<string, number>} */
const ports = {};
for (const p of protocols) ports[p] = broker.address(p).port;
process.stdout.write(`ready ${JSON.stringify(ports)}\n`);
const stop = async () => {
  // BENCH_STORE_METRICS_OUT: one JSON line of the default vhost's store counters per process
  // (segments created/deleted, fdatasyncs, gather writes, rounds, elided records)
  if (process.env.BENCH_STORE_METRICS_OUT) {
    const m = broker.core.storeMetrics('/');
    if (m) appendFileSync(process.env.BENCH_STORE_METRICS_OUT, `${JSON.stringify({ pid: process.pid, build, time: new Date().toISOString(), ...m })}\n`);
  }
  await broker.stop();
  if (!values['data-dir']) rmSync(options.dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
gcOnSignal(values['memory-log']);
