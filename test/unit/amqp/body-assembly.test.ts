/**
 * A published body is received into one buffer once: the frame reader assembles body frames
 * that arrive in pieces straight into the message's body buffer (ContentAssembler.bodyTarget),
 * and frames that arrive whole are copied into it, so a body of many frames is neither
 * assembled frame by frame nor joined again at the end. Real frames (amqplib's encoder for
 * the content header), cut as a socket delivers them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameReader, type FrameSink } from '../../../plugins/amqp/codec/frame-reader.js';
import { ContentAssembler } from '../../../plugins/amqp/message.js';
import { M, encodeMethodFrame } from '../../../plugins/amqp/codec/methods.js';
import type { Message } from '../../../src/core/index.js';
import { amqplibDefs } from './amqplib-reference.js';
import { frame } from '../../helpers/amqp-frames.js';
import { contentSink } from './content-sink.js';

afterEach(() => vi.restoreAllMocks());


/** The bytes of one basic.publish of `body`, its body in frames of `frameMax`. */
function publishBytes(body: Buffer, frameMax: number): Buffer {
  const parts = [
    encodeMethodFrame(1, { id: M.basicPublish, exchange: '', routingKey: 'q', mandatory: false, immediate: false }),
    amqplibDefs.encodeProperties(60, 1, body.length, { deliveryMode: 2 }),
  ];
  for (let at = 0; at < body.length; at += frameMax - 8) parts.push(frame(3, 1, body.subarray(at, at + frameMax - 8)));
  return Buffer.concat(parts);
}


/** Push `bytes` in socket-sized chunks; @returns the message and the bytes allocated meanwhile. */
function receive(bytes: Buffer, frameMax: number, chunk: number): { message: Message; allocated: number } {
  let message: Message | null = null;
  const reader = new FrameReader(contentSink(new ContentAssembler(), (m) => (message = m)), frameMax);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
  let allocated = 0;
  const allocUnsafe = Buffer.allocUnsafe;
  vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
    allocated += size;
    return allocUnsafe(size);
  });
  for (const c of chunks) reader.push(c);
  vi.restoreAllMocks();
  expect(reader.midFrame).toBe(false);
  expect(message).not.toBeNull();
  return { message: message as unknown as Message, allocated };
}

describe('AMQP body assembly', () => {
  const body = Buffer.alloc(1 << 20);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);

  it('a 1 MiB body in 128 KiB frames read in 64 KiB chunks is allocated once, at its size', () => {
    const { message, allocated } = receive(publishBytes(body, 131072), 131072, 65536);
    expect(message.body.equals(body)).toBe(true);
    // joined from per-frame buffers it was ~2 MiB: each split frame in its own buffer, then the concat
    expect(allocated).toBeLessThan(body.length + 64 * 1024);
    expect(message.body.buffer.byteLength).toBe(body.length);
  });

  it('small frames arriving whole are copied into the one body buffer, never joined at the end', () => {
    for (const chunk of [1000, 4096, 65536]) {
      const { message, allocated } = receive(publishBytes(body.subarray(0, 256 * 1024), 4096), 4096, chunk);
      expect(message.body.equals(body.subarray(0, 256 * 1024))).toBe(true);
      expect(allocated, `chunk ${chunk}`).toBeLessThan(256 * 1024 + 16 * 1024);
    }
  });

  it('a body in one frame inside one chunk stays a view of it (no copy)', () => {
    const small = body.subarray(0, 40_000);
    const bytes = publishBytes(small, 131072);
    const { message, allocated } = receive(bytes, 131072, bytes.length);
    expect(message.body.equals(small)).toBe(true);
    expect(message.body.buffer).toBe(bytes.buffer);
    expect(allocated).toBeLessThan(1024);
  });

  it('a wrong frame-end octet after a body assembled in place is a frame error', () => {
    const bytes = Buffer.from(publishBytes(body.subarray(0, 100_000), 131072));
    bytes[bytes.length - 1] = 0x00;
    const reader = new FrameReader(contentSink(new ContentAssembler(), () => undefined), 131072);
    expect(() => {
      for (let at = 0; at < bytes.length; at += 65536) reader.push(bytes.subarray(at, at + 65536));
    }).toThrow(/frame-end octet/);
  });
});
