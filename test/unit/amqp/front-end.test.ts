/**
 * The AMQP front-end's connection layer over real sockets, on an in-process broker with only
 * this plugin: handshake timeout, heartbeats sent, backpressure, coalesced confirms on the
 * wire, the closing-channel state, cancel notifications by capability, a forced stop.
 * (The amqplib end-to-end suite is test/plugins/amqp; these cover what it cannot see.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker.js';
import { FrameReader } from '../../../plugins/amqp/codec/frame-reader.js';
import { decodeMethod, methodName, M, type AmqpMethod } from '../../../plugins/amqp/codec/methods.js';
import { amqplibDefs } from './amqplib-reference.js';

interface Seen {
  type: 'method' | 'header' | 'body' | 'heartbeat';
  channel: number;
  method?: AmqpMethod;
  at: number;
}

/** A raw client: writes frames built by amqplib's encoder, reads frames with our reader. */
class Raw {
  readonly socket: Socket;
  readonly frames: Seen[] = [];
  closed = false;
  #waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    const add = (type: Seen['type']) => (channel: number, payload?: Buffer) => {
      this.frames.push({ type, channel, method: type === 'method' ? decodeMethod(payload!) : undefined, at: Date.now() });
      this.#wake();
    };
    const reader = new FrameReader({ onMethodFrame: add('method'), onHeaderFrame: add('header'), onBodyFrame: add('body'), onHeartbeatFrame: add('heartbeat') }, 0);
    let header = true;
    this.socket.on('data', (chunk) => {
      if (header && chunk.subarray(0, 4).toString() === 'AMQP') {
        this.frames.push({ type: 'method', channel: -1, at: Date.now() }); // the server's protocol header
        chunk = chunk.subarray(8);
      }
      header = false;
      if (chunk.length > 0) reader.push(chunk);
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  method(channel: number, id: number, fields: Record<string, unknown> = {}): Buffer {
    return amqplibDefs.encodeMethod(id, channel, fields);
  }

  /** Wait for a method frame with `id` (returns it) or for the socket to close (returns undefined). */
  async expect(id: number, timeoutMs = 3000): Promise<AmqpMethod> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find((x) => x.method?.id === id);
      if (f) return f.method!;
      if (this.closed || Date.now() > deadline) throw new Error(`no ${methodName(id)}; got ${this.describe()}`);
      await this.#next(deadline);
    }
  }

  /** Wait until `cond` holds after a frame arrives (or the socket closes, or `timeoutMs` passes: the caller's assertion tells). */
  async until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond() && !this.closed && Date.now() <= deadline) await this.#next(deadline);
  }

  async untilClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`still open; got ${this.describe()}`);
      await this.#next(deadline);
    }
  }

  describe(): string {
    return this.frames.map((f) => (f.method ? methodName(f.method.id) : f.type)).join(', ');
  }

  async handshake(opts: { heartbeat?: number; capabilities?: Record<string, boolean>; frameMax?: number } = {}): Promise<void> {
    this.send(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    await this.expect(M.connectionStart);
    this.send(
      this.method(0, M.connectionStartOk, {
        clientProperties: { capabilities: opts.capabilities ?? {} },
        mechanism: 'PLAIN',
        response: Buffer.from('\0guest\0guest'),
        locale: 'en_US',
      }),
    );
    await this.expect(M.connectionTune);
    this.send(
      this.method(0, M.connectionTuneOk, { channelMax: 0, frameMax: opts.frameMax ?? 131072, heartbeat: opts.heartbeat ?? 0 }),
      this.method(0, M.connectionOpen, { virtualHost: '/' }),
    );
    await this.expect(M.connectionOpenOk);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #next(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

const publish = (raw: Raw, channel: number, routingKey: string, body: Buffer): Buffer =>
  Buffer.concat([
    raw.method(channel, M.basicPublish, { exchange: '', routingKey, mandatory: false, immediate: false }),
    amqplibDefs.encodeProperties(60, channel, body.length, {}),
    body.length > 0 ? bodyFrame(channel, body) : Buffer.alloc(0),
  ]);

function bodyFrame(channel: number, body: Buffer): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b[0] = 3;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(body.length, 3);
  body.copy(b, 7);
  b[7 + body.length] = 0xce;
  return b;
}

let broker: Broker;
let port: number;
let dataDir: string;
const raws: Raw[] = [];
const raw = () => {
  const r = new Raw(port);
  raws.push(r);
  return r;
};

async function startBroker(amqp: Record<string, number | string>): Promise<{ broker: Broker; port: number; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-amqp-fe-'));
  const b = new Broker(
    { dataDir: dir, log: { level: 'silent' }, maxMessageSize: 100_000, amqp: { port: 0, host: '127.0.0.1', ...amqp } },
    { plugins: { amqp: () => import('../../../plugins/amqp/index.js') } },
  );
  await b.start();
  return { broker: b, port: b.address('amqp').port, dir };
}

beforeAll(async () => {
  // the default handshake timeout: a short one here would drop the other tests' clients when a
  // loaded machine slows their handshakes (the timeout test below starts a broker of its own)
  ({ broker, port, dir: dataDir } = await startBroker({}));
});
afterAll(async () => {
  for (const r of raws) r.destroy();
  await broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('AMQP front-end over a socket', () => {
  it('accepts a protocol header split across writes', async () => {
    const r = raw();
    r.send(Buffer.from('AM'));
    await new Promise((res) => setTimeout(res, 20));
    r.send(Buffer.from('QP\x00\x00\x09\x01', 'latin1'));
    await r.expect(M.connectionStart);
  });

  it('drops a client that does not finish the handshake within handshake_timeout, without a frame', async () => {
    const own = await startBroker({ handshake_timeout: 400 });
    try {
      const r = new Raw(own.port);
      raws.push(r);
      const t0 = Date.now();
      r.send(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
      await r.expect(M.connectionStart);
      await r.untilClosed(3000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
      expect(r.frames.some((f) => f.method?.id === M.connectionClose)).toBe(false);
    } finally {
      await own.broker.stop();
      await rm(own.dir, { recursive: true, force: true });
    }
  });

  it('sends heartbeats every half interval while it has nothing else to send', async () => {
    const r = raw();
    await r.handshake({ heartbeat: 1 });
    const t0 = Date.now();
    // keep the server from timing us out: our own heartbeats
    const beat = setInterval(() => r.send(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce])), 300);
    const beats = () => r.frames.filter((f) => f.type === 'heartbeat' && f.at >= t0);
    try {
      // two ticks of 500 ms; poll with slack, as timers run late on a loaded CI machine
      while (beats().length < 2 && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 50));
    } finally {
      clearInterval(beat);
    }
    expect(beats().length).toBeGreaterThanOrEqual(2);
    expect(r.closed).toBe(false);
  });

  it('writes the confirms of one batch of publishes as one basic.ack with multiple', async () => {
    const r = raw();
    await r.handshake();
    const q = `fe-confirm-${process.pid}`;
    r.send(r.method(1, M.channelOpen), r.method(1, M.queueDeclare, { queue: q, exclusive: true, arguments: {} }), r.method(1, M.confirmSelect, { nowait: false }));
    await r.expect(M.confirmSelectOk);
    const batch: Buffer[] = [];
    for (let i = 0; i < 20; i++) batch.push(publish(r, 1, q, Buffer.from(`m${i}`)));
    r.send(...batch);
    const ack = await r.expect(M.basicAck);
    expect(ack).toEqual({ id: M.basicAck, deliveryTag: 20, multiple: true });
    expect(r.frames.filter((f) => f.method?.id === M.basicAck)).toHaveLength(1);
  });

  it('stops delivering to a consumer whose socket is full, and resumes on drain', async () => {
    const publisher = raw();
    await publisher.handshake();
    const q = `fe-backpressure-${process.pid}`;
    publisher.send(publisher.method(1, M.channelOpen), publisher.method(1, M.queueDeclare, { queue: q, autoDelete: false, arguments: {} }));
    await publisher.expect(M.queueDeclareOk);

    const consumer = raw();
    await consumer.handshake();
    consumer.send(consumer.method(1, M.channelOpen), consumer.method(1, M.basicConsume, { queue: q, consumerTag: 'c', noAck: true, arguments: {} }));
    await consumer.expect(M.basicConsumeOk);
    consumer.socket.pause();

    const body = Buffer.alloc(20_000, 1);
    const n = 2000; // 40 MB: far more than the socket buffers hold
    for (let i = 0; i < n; i += 100) {
      const batch: Buffer[] = [];
      for (let k = 0; k < 100; k++) batch.push(publish(publisher, 1, q, body));
      publisher.send(...batch);
    }
    await new Promise((res) => setTimeout(res, 500));
    // asked on a third connection: past 8 MiB in the queue the publisher's socket is not read (publisher flow)
    const observer = raw();
    await observer.handshake();
    observer.send(observer.method(1, M.channelOpen), observer.method(1, M.queueDeclare, { queue: q, passive: true, arguments: {} }));
    const ok = (await observer.expect(M.queueDeclareOk)) as unknown as { messageCount: number };
    expect(ok.messageCount).toBeGreaterThan(300); // deliveries stopped: 6 MB and more stayed in the queue

    consumer.socket.resume();
    const deadline = Date.now() + 10_000;
    while (consumer.frames.filter((f) => f.method?.id === M.basicDeliver).length < n && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(consumer.frames.filter((f) => f.method?.id === M.basicDeliver)).toHaveLength(n);
    publisher.send(publisher.method(1, M.queueDelete, { queue: q, arguments: {} }));
  }, 20_000);

  it('drops what a client sends on a channel it was told to close, until close-ok; then the number is free', async () => {
    const r = raw();
    await r.handshake();
    r.send(
      r.method(1, M.channelOpen),
      r.method(1, M.queueDeclare, { queue: 'missing-queue', passive: true, arguments: {} }), // 404: channel.close
      r.method(1, M.basicQos, { prefetchCount: 1 }), // dropped
      publish(r, 1, 'x', Buffer.from('dropped too')),
    );
    const close = await r.expect(M.channelClose);
    expect(close).toMatchObject({ replyCode: 404, classId: 50, methodId: 10 });
    r.send(r.method(1, M.channelCloseOk), r.method(1, M.channelOpen));
    // the second open-ok comes after anything the dropped methods could have produced
    const openOks = () => r.frames.filter((f) => f.method?.id === M.channelOpenOk).length;
    await r.until(() => openOks() >= 2);
    expect(openOks()).toBe(2);
    expect(r.frames.some((f) => f.method?.id === M.basicQosOk)).toBe(false);
    expect(r.closed).toBe(false);
  });

  it('refuses a message over max_message_size with channel.close 406 and drops its body frames', async () => {
    const r = raw();
    await r.handshake();
    r.send(r.method(1, M.channelOpen), publish(r, 1, 'q', Buffer.alloc(100_001)), r.method(1, M.channelCloseOk));
    const close = await r.expect(M.channelClose);
    expect(close).toMatchObject({ replyCode: 406, replyText: 'PRECONDITION_FAILED - message size 100001 is larger than configured max size 100000' });
    r.send(r.method(2, M.channelOpen));
    await r.expect(M.channelOpenOk);
    expect(r.closed).toBe(false);
  });

  it('sends basic.cancel for a deleted queue only to clients announcing consumer_cancel_notify', async () => {
    const q1 = `fe-cancel-a-${process.pid}`;
    const q2 = `fe-cancel-b-${process.pid}`;
    const withCap = raw();
    await withCap.handshake({ capabilities: { consumer_cancel_notify: true } });
    const without = raw();
    await without.handshake();
    for (const [r, q] of [[withCap, q1], [without, q2]] as const) {
      r.send(r.method(1, M.channelOpen), r.method(1, M.queueDeclare, { queue: q, arguments: {} }), r.method(1, M.basicConsume, { queue: q, consumerTag: 'c', arguments: {} }));
      await r.expect(M.basicConsumeOk);
      r.send(r.method(1, M.queueDelete, { queue: q }));
      await r.expect(M.queueDeleteOk);
    }
    expect(withCap.frames.find((f) => f.method?.id === M.basicCancel)?.method).toEqual({ id: M.basicCancel, consumerTag: 'c', noWait: true });
    expect(without.frames.some((f) => f.method?.id === M.basicCancel)).toBe(false);
  });

  it('sends consume-ok before the first delivery of a queue that already holds messages', async () => {
    const r = raw();
    await r.handshake();
    const q = `fe-order-${process.pid}`;
    r.send(r.method(1, M.channelOpen), r.method(1, M.queueDeclare, { queue: q, exclusive: true, arguments: {} }), publish(r, 1, q, Buffer.from('waiting')));
    await r.expect(M.queueDeclareOk);
    // the message is in the queue before the consume (a passive declare after it counts it)
    r.send(r.method(1, M.queueDeclare, { queue: q, passive: true, arguments: {} }));
    await r.until(() => r.frames.filter((f) => f.method?.id === M.queueDeclareOk).length >= 2);
    expect(r.frames.filter((f) => f.method?.id === M.queueDeclareOk).at(-1)?.method).toMatchObject({ messageCount: 1 });
    r.send(r.method(1, M.basicConsume, { queue: q, consumerTag: '', noAck: true, arguments: {} }));
    await r.expect(M.basicDeliver);
    const ids = r.frames.map((f) => f.method?.id);
    expect(ids.indexOf(M.basicConsumeOk)).toBeLessThan(ids.indexOf(M.basicDeliver));
  });

  it('closes every connection with 320 CONNECTION_FORCED on stop, and the stop waits for them', async () => {
    const own = await startBroker({});
    try {
      const r = new Raw(own.port);
      raws.push(r);
      await r.handshake();
      const stopped = own.broker.stop('test stop');
      const close = await r.expect(M.connectionClose);
      expect(close).toMatchObject({ replyCode: 320, replyText: 'CONNECTION_FORCED - test stop' });
      r.send(r.method(0, M.connectionCloseOk));
      await stopped;
      await r.untilClosed(2000);
    } finally {
      await own.broker.stop();
      await rm(own.dir, { recursive: true, force: true });
    }
  });
});
