/**
 * Aedes (an MQTT broker for Node.js) for the MQTT comparisons, in its own process on a
 * loopback port. Aedes is never a dependency of Warren: it is installed outside the project
 * and this script loads it from there (`--aedes-dir`, default $AEDES_DIR):
 *
 *   npm install --prefix /work/aedes-bench aedes
 *   node --expose-gc bench/mqtt/aedes-server.mjs --aedes-dir /work/aedes-bench --port 0
 *
 * Defaults (in-memory persistence, concurrency 100 = Warren's MQTT prefetch and Mosquitto's
 * max_inflight_messages in these runs) except TCP_NODELAY on every socket, as Warren and the
 * Mosquitto config do. Prints `ready <port>`; stops on SIGTERM; SIGUSR2 collects garbage
 * before a memory reading, as bench/warren-server.mjs does. `--defaults`: Aedes' own defaults
 * (no TCP_NODELAY), for bench/mqtt-clients.mjs.
 */
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { 'aedes-dir': { type: 'string', default: process.env.AEDES_DIR ?? '' }, port: { type: 'string', default: '0' }, defaults: { type: 'boolean', default: false } } });
if (!values['aedes-dir']) throw new Error('--aedes-dir (or AEDES_DIR) is required: the --prefix Aedes was installed with');
const { Aedes } = await import(pathToFileURL(join(resolve(values['aedes-dir']), 'node_modules', 'aedes', 'aedes.js')).href);
// --defaults: Aedes as its README starts it (createBroker(), a plain net server)
const aedes = await Aedes.createBroker(values.defaults ? {} : { concurrency: 100 });
const server = createServer((socket) => {
  if (!values.defaults) socket.setNoDelay(true);
  aedes.handle(socket);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`ready ${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`);
});
const stop = () => {
  server.close();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGUSR2', () => globalThis.gc?.());
