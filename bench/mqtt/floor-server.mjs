/**
 * The floor under any Node.js MQTT broker's memory per idle connection: a bare `net.Server`
 * that answers a device's first read (CONNECT + SUBSCRIBE from bench/mqtt/idle-opener.mjs)
 * with a canned CONNACK and SUBACK and then keeps the socket open, reading, and nothing else.
 * bench/mqtt/idle-connections.mjs measures it like a broker (`--pid`, `--gc-signal`).
 * `--mode socket` (default): a `net.Socket` per connection, as Node gives it (what Warren
 * builds on); `--mode handle`: `pauseOnConnect` and no stream read, the socket object only;
 * `--mode owned`: a `net.Socket` whose reads land in one buffer shared by every connection
 * instead of a fresh 64 KiB buffer per read (src/frontend/owned-reads.ts of the build given by
 * `--build`, default dist: Node's `onread` slots on an accepted socket), no 'data' listener.
 * Prints `ready {"mqtt":port}`; SIGUSR2 runs a full GC (run with --expose-gc; `--memory-log <file>`:
 * and appends where the memory sits, bench/lib/memory-split.mjs).
 *
 *   node --expose-gc bench/mqtt/floor-server.mjs [--mode socket|handle]
 */
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gcOnSignal } from '../lib/memory-split.mjs';

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'socket' }, 'memory-log': { type: 'string' }, build: { type: 'string', default: 'dist' } } });
const owned = values.mode === 'owned' ? await import(pathToFileURL(join(resolve(values.build), 'src', 'frontend', 'owned-reads.js')).href) : null;
// CONNACK (session not present, accepted) and SUBACK (packet id 1, granted QoS 1)
const replies = Buffer.from([0x20, 2, 0, 0, 0x90, 3, 0, 1, 1]);
const sockets = new Set();
/** @this {import('node:net').Socket} @param {Buffer} _chunk */
function answerOnce(_chunk) {
  this.write(replies);
  this.removeListener('data', answerOnce);
  this.on('data', ignore);
}
function ignore() {}
function forget() {
  sockets.delete(this);
}
/** `--mode owned`: the first read answers, the rest are ignored (one reader for every socket) */
const answerFirstRead = {
  readInto: () => null,
  /** @param {Buffer} _buf @param {number} _n */
  ownedRead(_buf, _n) {},
};
const server = createServer({ pauseOnConnect: values.mode === 'handle' }, (socket) => {
  sockets.add(socket);
  socket.on('close', forget);
  socket.on('error', ignore);
  if (values.mode === 'handle') socket.write(replies);
  else if (owned) {
    // the opener sends CONNECT + SUBSCRIBE at once: answer at accept, then read into the shared buffer
    socket.write(replies);
    if (!owned.readIntoOwnedBuffers(socket, answerFirstRead)) throw new Error('owned reads unavailable on this Node');
  } else socket.on('data', answerOnce);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready ${JSON.stringify({ mqtt: /** @type {import('node:net').AddressInfo} */ (server.address()).port })}\n`);
});
gcOnSignal(values['memory-log']);
process.on('SIGTERM', () => process.exit(0));
