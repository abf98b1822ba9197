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
import { isSharedReadBuffer, readIntoOwnedBuffers, sharedShortRead } from '../../../src/frontend/index.js';
import { Broker } from '../../../src/index.js';
import { amqplibDefs } from '../../unit/amqp/amqplib-reference.js';
import { waitFor } from '../../helpers/amqp-clients.js';
import { frame } from '../../helpers/amqp-frames.js';
import { contentSink } from '../../unit/amqp/content-sink.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});


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
    const reader = new FrameReader(contentSink(new ContentAssembler(), done), frameMax);
    socket.on('data', (chunk: Buffer) => {
      dataEvents++;
      reader.push(chunk);
    });
    // as AmqpConnection.readInto: the room the reader offers, else a short read when it asks for one
    const readInto = (): Buffer | null => reader.readRoom() ?? (reader.shortReadDue ? sharedShortRead() : null);
    switched(readIntoOwnedBuffers(socket, { readInto, ownedRead: (buf, n) => reader.pushRead(buf, n) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { server, port: (server.address() as { port: number }).port, switched: result, dataEvents: () => dataEvents };
}

/**
 * Feed `bytes` to `reader` the way an owned socket does: each read goes into the room the
 * reader offers (or a scratch buffer), `sizes()` bytes at most. @returns the bytes that went
 * through the scratch buffer.
 */
function readLikeASocket(reader: FrameReader, bytes: Buffer, sizes: () => number): number {
  const scratch = Buffer.alloc(65536);
  const short = scratch.subarray(0, 4096);
  let viaScratch = 0;
  for (let at = 0; at < bytes.length; ) {
    const room = reader.readRoom() ?? (reader.shortReadDue ? short : scratch);
    const n = Math.min(room.length, sizes(), bytes.length - at);
    bytes.copy(room, 0, at, at + n);
    if (room.buffer === scratch.buffer) viaScratch += n;
    at += n;
    reader.pushRead(room, n);
  }
  return viaScratch;
}

describe('owned socket reads (AMQP)', () => {
  it('reads cut anywhere give the same bodies; between body frames the reader asks for the frame end and header only', () => {
    const bodies = [randomBytes(600_000), randomBytes(5), Buffer.alloc(0), randomBytes(131_064 * 3)];
    const bytes = Buffer.concat(bodies.flatMap((b) => publishBytes(b, 131072)));
    for (const sizes of [() => 65536, () => 1 + Math.floor(Math.random() * 70_000), () => 1 + Math.floor(Math.random() * 9)]) {
      const got: Message[] = [];
      const reader = new FrameReader(contentSink(new ContentAssembler(), (m) => got.push(m)), 131072);
      const viaScratch = readLikeASocket(reader, bytes, sizes);
      expect(reader.midFrame).toBe(false);
      expect(got.map((m) => m.body.toString('hex'))).toEqual(bodies.map((b) => b.toString('hex')));
      // every body frame after a message's first is read in place: the scratch buffer saw at
      // most the first 64 KiB of each body, the method and header frames, and the frame ends
      expect(viaScratch).toBeLessThan(bodies.length * (65536 + 200));
    }
  });

  it('after a large body read in place the next read is short: of 64 KiB bodies only a few KiB each go through the shared buffer', () => {
    const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(i === 7 ? 100 : 65536 + (i % 3)));
    const bytes = Buffer.concat(bodies.flatMap((b) => publishBytes(b, 131072)));
    for (const sizes of [() => 65536, () => 1 + Math.floor(Math.random() * 70_000)]) {
      const got: Message[] = [];
      const reader = new FrameReader(contentSink(new ContentAssembler(), (m) => got.push(m)), 131072);
      const viaScratch = readLikeASocket(reader, bytes, sizes);
      expect(got.map((m) => m.body.toString('hex'))).toEqual(bodies.map((b) => b.toString('hex')));
      // full 64 KiB reads put almost all of each body through the shared buffer (~1.3 MiB here);
      // short reads: the first message's read, the small one's and the one after it are full
      // reads, every other takes at most 4 KiB
      expect(viaScratch).toBeLessThan(3 * 65536 + bodies.length * 4096);
    }
  });

  it('a wrong frame-end octet after a body frame read in place is still 501 FRAME_ERROR', () => {
    const body = randomBytes(300_000);
    const bytes = Buffer.concat(publishBytes(body, 131072));
    const firstBodyFrameEnd = bytes.indexOf(Buffer.from([0xce, 3, 0, 1]), 200); // end of the first body frame, then the next one's header
    bytes[firstBodyFrameEnd] = 0xcd;
    const reader = new FrameReader(contentSink(new ContentAssembler(), () => undefined), 131072);
    expect(() => readLikeASocket(reader, bytes, () => 65536)).toThrow(/FRAME_ERROR - frame-end octet 0xcd/);
  });


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
