/**
 * The broker for benches that need to look inside it: the same `Broker` the CLI starts, with
 * the same configuration layers (environment and flags; no conf file unless WARREN_CONFIG
 * names one), plus an IPC channel on which the parent asks { id, type: 'metrics' } and gets
 * { id, value: { vhosts: { name: store.metrics() }, queues, memory } } back. Started by
 * bench/broker-process.mjs with mode 'host'; SIGTERM/SIGINT stop it cleanly, as the CLI does.
 *
 *   node bench/broker-host.mjs --build <dir> [--<key> <value> …]
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const at = argv.indexOf('--build');
const build = resolve(at >= 0 ? argv[at + 1] : join(import.meta.dirname, '..', 'dist'));
const flags = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;

/** @type {any} */
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
const broker = new Broker({}, { config: { env: process.env, argv: flags } });

let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  broker.stop().then(
    () => process.exit(0),
    (/** @type {Error} */ e) => {
      process.stderr.write(`broker-host: stop failed: ${e?.message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

function metrics() {
  /** @type {Record<string, any>} */
  const vhosts = {};
  /** @type {Record<string, any>} */
  const queues = {};
  for (const [name, vhost] of broker.core.vhosts) {
    if (vhost.store) vhosts[name] = vhost.store.messages.metrics();
    for (const [qname, q] of vhost.queues) {
      queues[`${name}|${qname}`] = { messages: q.messageCount, paged: q.pagedCount, window: q.windowLength, windowBytes: q.windowBytes };
    }
  }
  return { vhosts, queues, memory: process.memoryUsage() };
}

process.on('message', (/** @type {any} */ m) => {
  if (m?.type === 'metrics') process.send?.({ id: m.id, value: broker.state === 'running' ? metrics() : null });
});

try {
  await broker.start();
} catch (e) {
  process.stderr.write(`broker-host: start failed: ${/** @type {Error} */ (e)?.message}\n`);
  process.exit(1);
}
