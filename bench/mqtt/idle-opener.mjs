/**
 * One generator process of bench/mqtt/idle-connections.mjs (forked with IPC): opens its share
 * of the idle MQTT 3.1.1 connections from its own source address (127.0.0.x), so that many
 * thousands of connections need neither one process's file descriptors nor one address's
 * ephemeral ports. Raw sockets: CONNECT (keep-alive 60 s, clean or persistent session) and,
 * with a subscription, SUBSCRIBE to `idle/<client id>` at QoS 1 in the same write. Sends
 * `{ opened, seconds }` to the parent once every connection has its CONNACK (and SUBACK);
 * on `close`, ends them and exits. With `subscribe` = `resume`: CONNECT only (clean session 0),
 * and the report counts the CONNACKs with session present; on `count` it reports how many
 * connections received anything after their CONNACK (a message for their subscription).
 *
 *   (forked) idle-opener.mjs <url> <first id> <count> <subscribe 0|1> <persistent 0|1> <local address> [id prefix] [batch]
 */
import { connect as netConnect } from 'node:net';

const [urlText, firstText, countText, subscribeText, persistentText, localAddress, prefix = 'idle', batchText = '200'] = process.argv.slice(2);
// connections in flight at once: a broker that writes each new persistent session to disk
// serves them one by one, and one that waits too long for a CONNECT closes the socket
const batchSize = Math.max(1, Number(batchText));
// the parent is gone (it failed): do not keep the connections open for ever
process.on('disconnect', () => process.exit(0));
const url = new URL(urlText);
const first = Number(firstText);
const count = Number(countText);
const subscribe = subscribeText === '1';
const resume = subscribeText === 'resume';
let sessionPresent = 0;
/** sockets that received bytes after CONNACK (and SUBACK) */
const delivered = new Set();
const persistent = persistentText === '1';

/** @param {string} s */
function str(s) {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}
/** @param {number} type @param {Buffer} body */
function packet(type, body) {
  const len = [];
  let x = body.length;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 128;
    len.push(byte);
  } while (x > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}
const connectPacket = (/** @type {string} */ id) => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, persistent || resume ? 0x00 : 0x02, 0, 60]), str(id)]));
const subscribePacket = (/** @type {string} */ id) => packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(`idle/${id}`), Buffer.from([1])]));

/** connections closed by the broker before their answer and opened again, as a device would */
let retried = 0;

/**
 * Open one connection; resolves once CONNACK (and SUBACK) arrived. A connection the broker
 * closes first is opened again (up to 3 times; counted in `retried`): on a machine so loaded
 * that this process did not write its CONNECT within the broker's connect timeout, a real
 * device would reconnect too. @param {number} i
 */
async function open(i) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openOnce(i);
    } catch (e) {
      if (attempt >= 3 || !/closed by the broker|ECONNRESET/.test(/** @type {Error} */ (e).message)) throw e;
      retried++;
    }
  }
}

/** @param {number} i @returns {Promise<import('node:net').Socket>} */
function openOnce(i) {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: url.hostname, port: Number(url.port || 1883), localAddress: localAddress || undefined });
    // CONNACK is 4 bytes, SUBACK (one filter) 5
    let want = subscribe ? 9 : 4;
    s.on('data', (d) => {
      if (want <= 0) return void delivered.add(s);
      // CONNACK's byte 2: session present (MQTT-3.2.2-2)
      if (want === (subscribe ? 9 : 4) && d.length >= 3 && (d[2] & 1) === 1) sessionPresent++;
      want -= d.length;
      if (want < 0) delivered.add(s);
      if (want <= 0) {
        s.setTimeout(0);
        resolve(s);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('connection closed by the broker')));
    // a broker out of file descriptors accepts and then says nothing: do not wait for ever
    s.setTimeout(120_000, () => {
      s.destroy();
      reject(new Error('no CONNACK within 120 s'));
    });
    const id = `${prefix}-${i}`;
    s.on('connect', () => s.write(subscribe ? Buffer.concat([connectPacket(id), subscribePacket(id)]) : connectPacket(id)));
  });
}

/** @type {import('node:net').Socket[]} */
const sockets = [];
process.on('message', (m) => {
  if (m === 'count') process.send?.({ delivered: delivered.size });
  if (m === 'close') {
    for (const s of sockets) s.destroy();
    setTimeout(() => process.exit(0), 200);
  }
});
// `batchSize` connects in flight, a new one as each is answered (not batches that each wait for
// their slowest): the broker always has CONNECTs to answer
const started = performance.now();
let next = 0;
await Promise.all(Array.from({ length: Math.min(batchSize, count) }, async () => {
  while (next < count) sockets.push(/** @type {import('node:net').Socket} */ (await open(first + next++)));
}));
process.send?.({ opened: sockets.length, seconds: (performance.now() - started) / 1000, sessionPresent, retried });
