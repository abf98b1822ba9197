/**
 * AMQP sockets read into memory the broker owns (src/frontend/owned-reads.ts): no buffer is
 * allocated per socket read, a body frame's payload is read by the kernel straight into the
 * message's body buffer, and the rest lands in one read buffer shared by every connection, so
 * whatever outlives a read must be a copy. Real TCP sockets and real frames; then a real
 * broker and amqplib with bodies of every shape, compared byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameReader, type FrameSink } from '../../../plugins/amqp/codec/frame-reader.js';
import { M, encodeMethodFrame } from '../../../plugins/amqp/codec/methods.js';
import { ContentAssembler } from '../../../plugins/amqp/message.js';
import type { Message } from '../../../src/core/index.js';
import { isSharedReadBuffer, readIntoOwnedBuffers } from '../../../src/frontend/index.js';
import { Broker } from '../../../src/index.js';
import { amqplibDefs } from '../../unit/amqp/amqplib-reference.js';
import { waitFor } from '../../helpers/amqp-clients.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

function frame(type: number, channel: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(payload.length, 3);
  payload.copy(b, 7);
  b[7 + payload.length] = 0xce;
  return b;
}

/** The frames of one basic.publish of `body`, its body in frames of `frameMax`. */
function publishBytes(body: Buffer, frameMax: number): Buffer[] {
  const parts = [
    encodeMethodFrame(1, { id: M.basicPublish, exchange: '', routingKey: 'q', mandatory: false, immediate: false }),
    amqplibDefs.encodeProperties(60, 1, body.length, { deliveryMode: 2 }),
  ];
  for (let at = 0; at < body.length; at += frameMax - 8) parts.push(frame(3, 1, body.subarray(at, at + frameMax - 8)));
  return parts;
}

/** A server whose accepted socket feeds a frame reader the way AmqpConnection does. */
async function frameServer(frameMax: number, done: (m: Message) => void): Promise<{ server: Server; port: number; switched: Promise<boolean>; dataEvents: () => number }> {
  let dataEvents = 0;
  let switched!: (v: boolean) => void;
  const result = new Promise<boolean>((r) => (switched = r));
  const server = createServer((socket: Socket) => {
    const assembler = new ContentAssembler();
    const sink: FrameSink = {
      onMethodFrame: () => assembler.begin('', 'q', false),
      onHeaderFrame: (_ch, payload) => {
        if (assembler.header(payload, 1 << 30)) done(assembler.take());
      },
      onBodyFrame: (_ch, payload) => {
        if (assembler.body(payload)) done(assembler.take());
      },
      onHeartbeatFrame: () => undefined,
      bodyTarget: (_ch, size) => assembler.bodyTarget(size),
      bodyFollows: () => assembler.bodyFollowsTarget,
    };
    const reader = new FrameReader(sink, frameMax);
    socket.on('data', (chunk: Buffer) => {
      dataEvents++;
      reader.push(chunk);
    });
    switched(readIntoOwnedBuffers(socket, { readInto: () => reader.readRoom(), ownedRead: (buf, n) => reader.pushRead(buf, n) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { server, port: (server.address() as { port: number }).port, switched: result, dataEvents: () => dataEvents };
}

describe('owned socket reads (AMQP)', () => {
  it('1 MiB bodies in 128 KiB frames are read into their body buffers: at most one read of each is copied', async () => {
    const frameMax = 131072;
    const bodies = [randomBytes(1 << 20), randomBytes((1 << 20) + 3), randomBytes(300), randomBytes(1 << 20)];
    const got: Message[] = [];
    const { port, switched, dataEvents } = await frameServer(frameMax, (m) => got.push(m));
    const client = createConnection(port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    await new Promise<void>((r) => client.once('connect', () => r()));
    expect(await switched).toBe(true);

    const bytes = Buffer.concat(bodies.flatMap((b) => publishBytes(b, frameMax)));
    // count what the receiving side copies (the client writes whole prebuilt buffers: it copies nothing)
    let copied = 0;
    const copy = Buffer.prototype.copy;
    Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>): number {
      const n = copy.apply(this, args);
      copied += n;
      return n;
    };
    try {
      client.write(bytes);
      await waitFor(() => got.length === bodies.length, 'the four messages', 20_000);
    } finally {
      Buffer.prototype.copy = copy;
    }

    for (let i = 0; i < bodies.length; i++) expect(got[i]!.body.equals(bodies[i]!)).toBe(true);
    // no 'data' event: Node allocated no buffer for any read
    expect(dataEvents()).toBe(0);
    // read through a stream, every byte of every body was copied (4.2 MiB); now only what the
    // shared buffer's read held of each message's first frame (≤ 64 KiB each) and the 300 bytes
    expect(copied).toBeLessThan(bodies.length * 64 * 1024 + 4096);
    // a body that came whole within one read of the shared buffer is a copy, not a view of it
    expect(isSharedReadBuffer(got[2]!.body)).toBe(false);
  });

  it('bodies of every size and frame size arrive intact through the broker (amqplib)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-owned-reads-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
    await broker.start();
    cleanups.push(() => broker.stop());
    const { host, port } = broker.address('amqp');
    const sizes = [0, 1, 100, 4087, 4088, 4089, 65536, 65537, 131064, 131065, 200_000, 1 << 20, (1 << 20) + 7];
    for (const frameMax of [4096, 131072]) {
      const conn = await amqp.connect(`amqp://guest:guest@${host}:${port}?frameMax=${frameMax}`);
      cleanups.push(() => conn.close());
      const ch = await conn.createConfirmChannel();
      const q = `owned-${frameMax}`;
      await ch.assertQueue(q, { durable: true });
      const sent = sizes.flatMap((size) => [randomBytes(size), randomBytes(size)]);
      for (let i = 0; i < sent.length; i++) ch.sendToQueue(q, sent[i]!, { persistent: i % 2 === 0, messageId: String(i) });
      await ch.waitForConfirms();
      const got: ConsumeMessage[] = [];
      await ch.consume(q, (m) => m && got.push(m), { noAck: true });
      await waitFor(() => got.length === sent.length, 'every message back', 20_000);
      for (const m of got) expect(m.content.equals(sent[Number(m.properties.messageId)]!)).toBe(true);
    }
  });
});
