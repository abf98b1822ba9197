/**
 * A minimal MQTT 3.1.1 client for the load generator: CONNECT, SUBSCRIBE, PUBLISH at QoS 0
 * or 1, PUBACK of deliveries, over a raw TCP socket. MQTT.js does much more per message
 * (and so would be the bottleneck on a small machine, for every broker alike); this does
 * only what the benchmarks need, so the broker is what gets measured.
 */
import { connect as netConnect } from 'node:net';

const utf8 = (s) => Buffer.from(s, 'utf8');

function withLength(first, body) {
  const len = [];
  let x = body.length;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x > 0) b |= 0x80;
    len.push(b);
  } while (x > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}

const str = (s) => {
  const b = utf8(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

export class WireClient {
  /** @param {(payload: Buffer, qos: number) => void} onMessage */
  constructor(socket, onMessage) {
    this.socket = socket;
    this.onMessage = onMessage;
    this.pending = null; // unparsed bytes
    this.nextId = 1;
    this.acked = 0; // PUBACKs received for our QoS 1 publishes
    this.waiters = [];
    this.corked = false;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.#onData(d));
    socket.on('error', () => {});
  }

  /** Connect and wait for CONNACK. */
  static async open(url, clientId) {
    const u = new URL(url);
    const socket = await new Promise((resolve, reject) => {
      const s = netConnect({ host: u.hostname, port: Number(u.port || 1883) }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new WireClient(socket, () => {});
    const connack = c.#next(0x20);
    socket.write(withLength(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 60]), str(clientId)])));
    const rc = await connack;
    if (rc[1] !== 0) throw new Error(`CONNACK ${rc[1]}`);
    return c;
  }

  async subscribe(filter, qos) {
    const suback = this.#next(0x90);
    this.socket.write(withLength(0x82, Buffer.concat([Buffer.from([0, 1]), str(filter), Buffer.from([qos])])));
    await suback;
  }

  /** A PUBLISH template for `topic`: the packet with room for the payload, re-used per message. */
  publisher(topic, size, qos) {
    const t = str(topic);
    const head = withLength(0x30 | (qos << 1), Buffer.alloc(t.length + (qos ? 2 : 0) + size));
    const buf = Buffer.from(head);
    const headerLength = head.length - (t.length + (qos ? 2 : 0) + size);
    t.copy(buf, headerLength);
    const idAt = headerLength + t.length;
    const payloadAt = idAt + (qos ? 2 : 0);
    return {
      /** fill(payload view) then send */
      payload: buf.subarray(payloadAt),
      send: () => {
        const out = Buffer.from(buf); // the socket may hold it a while
        if (qos) {
          const id = this.nextId;
          this.nextId = id === 65535 ? 1 : id + 1;
          out[idAt] = id >> 8;
          out[idAt + 1] = id & 0xff;
        }
        return this.#write(out);
      },
    };
  }

  #write(bytes) {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(bytes);
  }

  end() {
    return new Promise((resolve) => {
      this.socket.once('close', resolve);
      this.socket.end(Buffer.from([0xe0, 0x00]));
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  #next(type) {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  #onData(d) {
    let buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      let len = 0;
      let mult = 1;
      let i = at + 1;
      let complete = false;
      for (; i < buf.length && i < at + 5; i++) {
        len += (buf[i] & 0x7f) * mult;
        mult *= 128;
        if ((buf[i] & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buf.length - i < len) break;
      this.#packet(buf[at], buf.subarray(i, i + len));
      at = i + len;
    }
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : null;
  }

  #packet(first, body) {
    const type = first & 0xf0;
    if (type === 0x30) {
      const qos = (first >> 1) & 3;
      const topicLength = (body[0] << 8) | body[1];
      let at = 2 + topicLength;
      if (qos > 0) {
        this.#write(Buffer.from([0x40, 0x02, body[at], body[at + 1]]));
        at += 2;
      }
      this.onMessage(body.subarray(at), qos);
      return;
    }
    if (type === 0x40) {
      this.acked++;
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === type);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(body);
  }
}
