/**
 * A minimal AMQP 0-9-1 client over a raw socket, for the parts of the benches where amqplib
 * would be the thing measured: thousands of idle connections (amqplib holds tens of KiB per
 * connection in the generator) and the scaling curves' publishers and consumers. It speaks
 * just enough: the handshake (PLAIN), one channel, basic.publish from pre-encoded frames,
 * basic.qos / basic.consume, basic.deliver parsing (bodies split over frames included),
 * basic.ack with `multiple`, and heartbeats. Everything else the broker sends is ignored,
 * except connection.close / channel.close, which are errors.
 *
 * Frame layout (AMQP 0-9-1 §2.3.5): type u8, channel u16, size u32, payload, 0xCE.
 */
import { connect as netConnect } from 'node:net';

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
const FRAME_END = 0xce;
const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const HEARTBEAT_FRAME = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);

/** method ids as class << 16 | method */
const M = {
  start: (10 << 16) | 10,
  tune: (10 << 16) | 30,
  openOk: (10 << 16) | 41,
  close: (10 << 16) | 50,
  channelOpenOk: (20 << 16) | 11,
  channelClose: (20 << 16) | 40,
  qosOk: (60 << 16) | 11,
  consumeOk: (60 << 16) | 21,
  deliver: (60 << 16) | 60,
};

const shortstr = (s) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length]), b]);
};
const longstr = (s) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const u16 = (v) => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

/** @param {number} type @param {number} channel @param {Buffer} payload */
function frame(type, channel, payload) {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out[0] = type;
  out.writeUInt16BE(channel, 1);
  out.writeUInt32BE(payload.length, 3);
  payload.copy(out, 7);
  out[7 + payload.length] = FRAME_END;
  return out;
}

/** @param {number} channel @param {number} classId @param {number} methodId @param {Buffer[]} args */
function method(channel, classId, methodId, ...args) {
  return frame(FRAME_METHOD, channel, Buffer.concat([u16(classId), u16(methodId), ...args]));
}

export class AmqpWire {
  /**
   * Connect, do the handshake and open channel 1.
   * @param {string} url amqp://user:pass@host:port/vhost
   * @param {{ heartbeat?: number, channel?: boolean, onDeliver?: (body: Buffer, deliveryTag: number) => void }} [o]
   *   heartbeat: seconds to accept (default: the server's proposal, as amqplib does)
   * @returns {Promise<AmqpWire>}
   */
  static async open(url, o = {}) {
    const u = new URL(url);
    const socket = await new Promise((resolve, reject) => {
      const s = netConnect({ host: u.hostname, port: Number(u.port || 5672) }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new AmqpWire(socket, o.onDeliver ?? null);
    // a broker out of file descriptors accepts and then says nothing: do not wait for ever
    const timer = setTimeout(() => c.#fail(new Error('no handshake within 15 s')), 15_000);
    try {
      await c.#handshake(decodeURIComponent(u.username || 'guest'), decodeURIComponent(u.password || 'guest'), decodeURIComponent(u.pathname.slice(1)) || '/', o.heartbeat);
      if (o.channel !== false) {
        const ok = c.#expect(M.channelOpenOk);
        socket.write(method(1, 20, 10, shortstr('')));
        await ok;
      }
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return c;
  }

  /** @param {import('node:net').Socket} socket @param {((body: Buffer, deliveryTag: number) => void) | null} onDeliver */
  constructor(socket, onDeliver) {
    this.socket = socket;
    this.onDeliver = onDeliver;
    /** @type {Buffer | null} unparsed bytes */
    this.pending = null;
    this.frameMax = 131072;
    this.heartbeat = 0;
    /** @type {{ id: number, resolve: (p: Buffer) => void, reject: (e: Error) => void }[]} */
    this.waiters = [];
    /** the delivery being assembled: its tag, expected size and body parts */
    this.delivery = { tag: 0, size: -1, parts: /** @type {Buffer[]} */ ([]), got: 0 };
    /** @type {Error | null} */
    this.error = null;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.#onData(d));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  async #handshake(user, pass, vhost, heartbeat) {
    const start = this.#expect(M.start);
    this.socket.write(PROTOCOL_HEADER);
    await start;
    const tune = this.#expect(M.tune);
    const response = Buffer.from(`\0${user}\0${pass}`, 'utf8');
    this.socket.write(method(0, 10, 11, u32(0), shortstr('PLAIN'), u32(response.length), response, shortstr('en_US')));
    const t = await tune;
    const serverFrameMax = t.readUInt32BE(6);
    const serverHeartbeat = t.readUInt16BE(10);
    this.frameMax = serverFrameMax === 0 ? 131072 : serverFrameMax;
    this.heartbeat = heartbeat ?? serverHeartbeat;
    const openOk = this.#expect(M.openOk);
    this.socket.write(method(0, 10, 31, u16(t.readUInt16BE(4)), u32(this.frameMax), u16(this.heartbeat)));
    this.socket.write(method(0, 10, 40, shortstr(vhost), shortstr(''), Buffer.from([0])));
    await openOk;
  }

  /** Send a heartbeat frame (callers with many idle connections run one timer for all). */
  beat() {
    if (!this.error) this.socket.write(HEARTBEAT_FRAME);
  }

  /** @param {number} prefetch */
  async qos(prefetch) {
    const ok = this.#expect(M.qosOk);
    this.socket.write(method(1, 60, 10, u32(0), u16(prefetch), Buffer.from([0])));
    await ok;
  }

  /** Consume (manual acks) from `queue`. @param {string} queue */
  async consume(queue) {
    const ok = this.#expect(M.consumeOk);
    this.socket.write(method(1, 60, 20, u16(0), shortstr(queue), shortstr(''), Buffer.from([0]), u32(0)));
    await ok;
  }

  /** Acknowledge up to and including `tag`. @param {number} tag */
  ack(tag) {
    const p = Buffer.allocUnsafe(4 + 8 + 1);
    p.writeUInt16BE(60, 0);
    p.writeUInt16BE(80, 2);
    p.writeBigUInt64BE(BigInt(tag), 4);
    p[12] = 1; // multiple
    this.socket.write(frame(FRAME_METHOD, 1, p));
  }

  /**
   * The frames of one transient publish (method, header, body split at frame-max), with the
   * body at a known offset so a publisher can stamp each message in a copy.
   * @param {string} exchange @param {string} routingKey @param {number} size
   * @returns {{ bytes: Buffer, bodyAt: number[] }} bodyAt: where each body chunk starts
   */
  publishTemplate(exchange, routingKey, size) {
    const parts = [method(1, 60, 40, u16(0), shortstr(exchange), shortstr(routingKey), Buffer.from([0]))];
    const header = Buffer.alloc(14);
    header.writeUInt16BE(60, 0);
    header.writeBigUInt64BE(BigInt(size), 4);
    header.writeUInt16BE(0, 12); // no properties
    parts.push(frame(FRAME_HEADER, 1, header));
    const chunk = this.frameMax - 8;
    const bodyAt = [];
    let offset = parts[0].length + parts[1].length;
    for (let done = 0; done < size; done += chunk) {
      const n = Math.min(chunk, size - done);
      bodyAt.push(offset + 7);
      parts.push(frame(FRAME_BODY, 1, Buffer.alloc(n, 0x2e)));
      offset += n + 8;
    }
    return { bytes: Buffer.concat(parts), bodyAt };
  }

  /** @param {Buffer} bytes @returns {boolean} false when the socket wants a drain */
  write(bytes) {
    return this.socket.write(bytes);
  }

  close() {
    this.socket.destroy();
  }

  #expect(id) {
    return new Promise((resolve, reject) => {
      if (this.error) reject(this.error);
      else this.waiters.push({ id, resolve, reject });
    });
  }

  #fail(err) {
    if (this.error) return;
    this.error = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** @param {Buffer} data */
  #onData(data) {
    let buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    let at = 0;
    while (buf.length - at >= 8) {
      const size = buf.readUInt32BE(at + 3);
      if (buf.length - at < size + 8) break;
      const type = buf[at];
      const payload = buf.subarray(at + 7, at + 7 + size);
      at += size + 8;
      if (type === FRAME_METHOD) this.#onMethod(payload);
      else if (type === FRAME_HEADER) this.#onHeader(payload);
      else if (type === FRAME_BODY) this.#onBody(payload);
    }
    this.pending = at === buf.length ? null : buf.subarray(at);
  }

  /** @param {Buffer} p */
  #onMethod(p) {
    const id = p.readUInt32BE(0);
    if (id === M.deliver) {
      const tagAt = 4 + 1 + p[4];
      this.delivery.tag = Number(p.readBigUInt64BE(tagAt));
      this.delivery.size = -1;
      return;
    }
    if (id === M.close || id === M.channelClose) {
      const text = p.subarray(7, 7 + p[6]).toString();
      this.#fail(new Error(`${id === M.close ? 'connection' : 'channel'} closed by the broker: ${p.readUInt16BE(4)} ${text}`));
      return;
    }
    const i = this.waiters.findIndex((w) => w.id === id);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(p);
  }

  /** @param {Buffer} p */
  #onHeader(p) {
    const d = this.delivery;
    d.size = Number(p.readBigUInt64BE(4));
    d.parts.length = 0;
    d.got = 0;
    if (d.size === 0) this.onDeliver?.(Buffer.alloc(0), d.tag);
  }

  /** @param {Buffer} p */
  #onBody(p) {
    const d = this.delivery;
    d.got += p.length;
    if (d.got === d.size && d.parts.length === 0) {
      this.onDeliver?.(p, d.tag);
      return;
    }
    d.parts.push(p);
    if (d.got >= d.size) {
      const body = Buffer.concat(d.parts);
      d.parts.length = 0;
      this.onDeliver?.(body, d.tag);
    }
  }
}
