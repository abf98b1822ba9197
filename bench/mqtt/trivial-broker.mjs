/**
 * A trivial MQTT 3.1.1 responder, not a broker: the ceiling a real client can reach on this
 * machine. It answers CONNECT, SUBSCRIBE, PINGREQ, acknowledges a QoS 1 PUBLISH at once and
 * forwards each PUBLISH to the subscribers whose filter matches (QoS 0 or 1, a packet
 * identifier per subscriber), with no queue, no window, no persistence, no checks and its
 * writes batched per event-loop turn. When MQTT.js against this reaches about what it reaches
 * against Warren, the MQTT.js process is the limit of that scenario (docs/performance.md,
 * "MQTT: Warren beside Mosquitto"). Prints `ready <port>`; stops on SIGTERM.
 *
 *   node bench/mqtt/trivial-broker.mjs [--port 0]
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

/** @typedef {{ socket: import('node:net').Socket, filters: { parts: string[], qos: number }[], nextId: number, corked: boolean }} Client */
/** @type {Set<Client>} */
const clients = new Set();

/** @param {string[]} f @param {string[]} t */
function matches(f, t) {
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** @param {Client} c @param {Buffer} bytes */
function send(c, bytes) {
  if (!c.corked) {
    c.corked = true;
    c.socket.cork();
    process.nextTick(() => {
      c.corked = false;
      c.socket.uncork();
    });
  }
  c.socket.write(bytes);
}

/** @param {number} n @returns {number[]} the Remaining Length bytes */
function remainingLength(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

/** @param {Client} c @param {number} type @param {Buffer} body */
function packet(c, type, body) {
  if (c.socket.destroyed) return;
  // one buffer per packet: the header and the body (a PUBLISH body is copied once)
  const len = remainingLength(body.length);
  const out = Buffer.allocUnsafe(1 + len.length + body.length);
  out[0] = type;
  for (let i = 0; i < len.length; i++) out[1 + i] = len[i];
  body.copy(out, 1 + len.length);
  send(c, out);
}

/** @param {Client} from @param {number} flags @param {Buffer} body */
function publish(from, flags, body) {
  const qos = (flags >> 1) & 3;
  const topicLength = body.readUInt16BE(0);
  const topic = body.toString('utf8', 2, 2 + topicLength);
  const payloadAt = 2 + topicLength + (qos > 0 ? 2 : 0);
  if (qos === 1) packet(from, 0x40, body.subarray(2 + topicLength, 4 + topicLength));
  const parts = topic.split('/');
  for (const c of clients) {
    for (const f of c.filters) {
      if (!matches(f.parts, parts)) continue;
      const q = Math.min(qos, f.qos);
      const head = Buffer.allocUnsafe(2 + topicLength + (q > 0 ? 2 : 0));
      body.copy(head, 0, 0, 2 + topicLength);
      if (q > 0) {
        head.writeUInt16BE(c.nextId, 2 + topicLength);
        c.nextId = c.nextId === 65535 ? 1 : c.nextId + 1;
      }
      packet(c, 0x30 | (q << 1), Buffer.concat([head, body.subarray(payloadAt)]));
      break;
    }
  }
}

/** @param {Client} c @param {number} type @param {number} flags @param {Buffer} body */
function handle(c, type, flags, body) {
  if (type === 1) return packet(c, 0x20, Buffer.from([0, 0])); // CONNECT → CONNACK accepted
  if (type === 3) return publish(c, flags, body);
  if (type === 8) {
    // SUBSCRIBE → SUBACK granting what was asked
    const granted = [];
    for (let at = 2; at < body.length; ) {
      const n = body.readUInt16BE(at);
      const filter = body.toString('utf8', at + 2, at + 2 + n);
      const qos = Math.min(1, body[at + 2 + n]);
      c.filters.push({ parts: filter.split('/'), qos });
      granted.push(qos);
      at += 3 + n;
    }
    return packet(c, 0x90, Buffer.concat([body.subarray(0, 2), Buffer.from(granted)]));
  }
  if (type === 12) return packet(c, 0xd0, Buffer.alloc(0)); // PINGREQ → PINGRESP
  if (type === 14) return void c.socket.end(); // DISCONNECT
  // PUBACK from a subscriber, UNSUBSCRIBE …: nothing
}

const server = createServer({ noDelay: true }, (socket) => {
  /** @type {Client} */
  const c = { socket, filters: [], nextId: 1, corked: false };
  clients.add(c);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      let len = 0;
      let mul = 1;
      let i = at + 1;
      for (; i < buf.length; i++) {
        len += (buf[i] & 127) * mul;
        mul *= 128;
        if ((buf[i] & 128) === 0) break;
      }
      if (i >= buf.length || i + 1 + len > buf.length) break;
      handle(c, buf[at] >> 4, buf[at] & 15, buf.subarray(i + 1, i + 1 + len));
      at = i + 1 + len;
    }
    pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clients.delete(c));
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
