/**
 * One generator process of bench/mqtt/connect-rate.mjs (forked with IPC), raw wire: it opens
 * MQTT 3.1.1 connections from its own source address (127.0.x.y) on libuv's TCP handles (no
 * net.Socket, no streams), writes a prebuilt CONNECT (and SUBSCRIBE) as soon as each connects
 * and counts the bytes of CONNACK (and SUBACK) back: no promises, closures or timers per
 * connection, no parsing beyond the session-present bit, so that the broker, not this process,
 * is what limits the rate.
 *
 * Messages from the parent:
 *   { cmd: 'open', host, port, local, prefix, first, count, window, clean, subscribe }
 *     → { opened, failed, sessionPresent, seconds, cpuUs } once every connection is answered
 *       (or failed); `window` connects in flight at once
 *   { cmd: 'close' } → every socket destroyed, { closed }
 */
// libuv's TCP handle without net.Socket and its streams (the way Node's own net.js uses it):
// a net.Socket costs the generator as much CPU per connection as the broker spends, and on
// 2 cores the generator must leave the broker one
const { TCP, TCPConnectWrap, constants: TCPConstants } = /** @type {any} */ (process).binding('tcp_wrap');
const { WriteWrap, kReadBytesOrError, kArrayBufferOffset, streamBaseState } = /** @type {any} */ (process).binding('stream_wrap');

process.on('disconnect', () => process.exit(0)); // the parent is gone: so are we

/** @type {Handle[]} */
let handles = [];
let job = /** @type {any} */ (null);
let next = 0;
let answered = 0;
let failed = 0;
let sessionPresent = 0;
let started = 0;
let cpuAtStart = process.cpuUsage();

/** The CONNECT (clean session or not, keep-alive 60 s) of client id `id`, then SUBSCRIBE idle/<id> at QoS 1 if asked. */
function packets(id, clean, subscribe) {
  const idBytes = Buffer.byteLength(id);
  const connectBody = 10 + 2 + idBytes;
  const topic = `idle/${id}`;
  const subBody = 2 + 2 + Buffer.byteLength(topic) + 1;
  const b = Buffer.allocUnsafe(2 + connectBody + (subscribe ? 2 + subBody : 0));
  let o = 0;
  b[o++] = 0x10;
  b[o++] = connectBody; // ids are short: one length byte
  o = b.writeUInt16BE(4, o);
  o += b.write('MQTT', o);
  b[o++] = 4; // protocol level: 3.1.1
  b[o++] = clean ? 0x02 : 0x00;
  o = b.writeUInt16BE(60, o);
  o = b.writeUInt16BE(idBytes, o);
  o += b.write(id, o);
  if (subscribe) {
    b[o++] = 0x82;
    b[o++] = subBody;
    o = b.writeUInt16BE(1, o);
    o = b.writeUInt16BE(Buffer.byteLength(topic), o);
    o += b.write(topic, o);
    b[o++] = 1; // QoS 1
  }
  return b;
}

/** One connection: libuv's TCP handle with the state this file keeps on it. */
/** @typedef {{ packet: Buffer, want: number, onread: (ab: ArrayBuffer) => void, close(): void, readStart(): number, bind(a: string, p: number): number, connect(req: object, host: string, port: number): number, writeBuffer(req: object, b: Buffer): number }} Handle */

/** @this {unknown} @param {number} status @param {Handle} h */
function onConnected(status, h) {
  if (status < 0) return failedOne(h);
  h.onread = onRead;
  h.readStart();
  const w = new WriteWrap();
  w.handle = h;
  w.oncomplete = noop;
  w.async = false;
  if (h.writeBuffer(w, h.packet) < 0) failedOne(h);
}
const noop = () => undefined;

/** @this {Handle} @param {ArrayBuffer} ab */
function onRead(ab) {
  const nread = streamBaseState[kReadBytesOrError];
  if (nread < 0) return failedOne(this); // EOF or error before the answer
  if (this.want <= 0) return; // a message for its subscription: not counted
  // CONNACK's byte 2, bit 0: session present (MQTT-3.2.2-2)
  if (this.want === job.answerBytes && nread >= 3 && (new Uint8Array(ab, streamBaseState[kArrayBufferOffset], 3)[2] & 1) === 1) sessionPresent++;
  this.want -= nread;
  if (this.want <= 0) done();
}

/** @param {Handle} h */
function failedOne(h) {
  if (h.want <= 0) return;
  h.want = 0;
  failed++;
  done();
}

function done() {
  answered++;
  if (next < job.count) openOne();
  if (answered === job.count) {
    const cpu = process.cpuUsage(cpuAtStart);
    process.send?.({ opened: answered - failed, failed, sessionPresent, seconds: (performance.now() - started) / 1000, cpuUs: cpu.user + cpu.system });
  }
}

function openOne() {
  const i = job.first + next++;
  const h = /** @type {Handle} */ (new TCP(TCPConstants.SOCKET));
  h.packet = packets(`${job.prefix}-${i}`, job.clean, job.subscribe);
  h.want = job.answerBytes;
  handles.push(h);
  const req = new TCPConnectWrap();
  req.oncomplete = onConnected;
  req.address = job.host;
  req.port = job.port;
  if (h.bind(job.local, 0) < 0 || h.connect(req, job.host, job.port) < 0) failedOne(h);
}

process.on('message', (/** @type {any} */ m) => {
  if (m.cmd === 'open') {
    job = { ...m, answerBytes: m.subscribe ? 9 : 4 };
    next = answered = failed = sessionPresent = 0;
    cpuAtStart = process.cpuUsage();
    started = performance.now();
    for (let k = 0; k < Math.min(job.window, job.count); k++) openOne();
  } else if (m.cmd === 'close') {
    for (const h of handles) {
      h.want = 0;
      h.close();
    }
    handles = [];
    setTimeout(() => process.send?.({ closed: true }), 100);
  }
});
process.send?.({ ready: true });
