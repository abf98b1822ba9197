/**
 * Memory per idle connection: open `--connections` (10,000) MQTT 3.1.1 connections that
 * CONNECT (keep-alive 60 s), subscribe to one topic each at QoS 1 and then stay idle, and
 * read the broker's resident memory (/proc/<pid>/status VmRSS) before and after. Raw
 * sockets, not MQTT.js, so the client side stays small. `--subscriptions 0`: CONNECT only. Needs `--pid`. With `--gc-signal`
 * the broker (bench/mqtt/warren-server.mjs) is sent SIGUSR2 to collect garbage before each
 * reading; Mosquitto frees memory as it goes and needs no such thing.
 *
 *   node bench/mqtt/idle-connections.mjs --url mqtt://127.0.0.1:1883 --pid 1234 --connections 10000
 */
import { connect as netConnect } from 'node:net';
import { memoryFields, rssKiB as brokerRss } from '../lib/broker-memory.mjs';
import { options, report, sleep } from './lib.mjs';

const o = options({ connections: { type: 'string', default: '10000' }, subscriptions: { type: 'string', default: '1' }, 'gc-signal': { type: 'boolean', default: false } });
const url = new URL(o.url);
const pid = Number(o.pid);
const n = Number(o.connections);
// 1: each connection subscribes to its own topic at QoS 1 (a device waiting for commands); 0: CONNECT only
const subscribe = o.subscriptions !== '0';
if (!pid) throw new Error('--pid is required');

/** resident memory in KiB, after a collection when the broker takes the signal */
const rssKiB = () => brokerRss(pid, o['gc-signal']);

function str(s) {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}
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
const connectPacket = (id) => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 60]), str(id)]));
const subscribePacket = (id) => packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(`idle/${id}`), Buffer.from([1])]));

/** Open one connection; resolves once CONNACK (and SUBACK) arrived. */
function open(i) {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: url.hostname, port: Number(url.port || 1883) });
    // CONNACK is 4 bytes, SUBACK (one filter) 5
    let want = subscribe ? 9 : 4;
    s.on('data', (d) => {
      want -= d.length;
      if (want <= 0) resolve(s);
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('connection closed by the broker')));
    // a broker out of file descriptors accepts and then says nothing: do not wait for ever
    s.setTimeout(15_000, () => {
      s.destroy();
      reject(new Error('no CONNACK within 15 s'));
    });
    s.on('data', () => s.setTimeout(0));
    s.on('connect', () => s.write(subscribe ? Buffer.concat([connectPacket(`idle-${i}`), subscribePacket(`idle-${i}`)]) : connectPacket(`idle-${i}`)));
  });
}

await sleep(500);
const before = await rssKiB();
const sockets = [];
const started = Date.now();
for (let i = 0; i < n; i += 200) {
  const batch = [];
  for (let k = i; k < Math.min(n, i + 200); k++) batch.push(open(k));
  sockets.push(...(await Promise.all(batch)));
}
const connectSeconds = (Date.now() - started) / 1000;
await sleep(3000);
const after = await rssKiB();
for (const s of sockets) s.destroy();
await sleep(2000);
const released = await rssKiB();
report({
  scenario: 'idle-connections',
  label: o.label,
  connections: n,
  subscribed: subscribe,
  gc_before_reading: o['gc-signal'],
  ...memoryFields(n, connectSeconds, before, after, released),
  ok: sockets.length === n,
});
