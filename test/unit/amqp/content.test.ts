import { describe, expect, it } from 'vitest';
import { encodeProperties, decodeProperties, propertiesView } from '../../../src/codec/basic-properties.js';
import { FrameReader, type FrameSink } from '../../../plugins/amqp/codec/frame-reader.js';
import {
  INLINE_BODY_MAX,
  checkContentHeader,
  contentHeaderBodySize,
  contentHeaderClassId,
  writeDeliver,
  writeGetOk,
  writeReturn,
} from '../../../plugins/amqp/codec/content.js';
import { M, decodeMethod } from '../../../plugins/amqp/codec/methods.js';
import { amqplibDefs } from './amqplib-reference.js';

interface Frame {
  type: string;
  channel: number;
  payload: Buffer;
  size: number;
}

/** Parse what the encoder produced with our reader (which checks sizes and frame-ends). */
function parse(out: Buffer[], frameMax: number): Frame[] {
  const frames: Frame[] = [];
  const add = (type: string) => (channel: number, payload: Buffer) => frames.push({ type, channel, payload: Buffer.from(payload), size: payload.length + 8 });
  const sink: FrameSink = { onMethodFrame: add('method'), onHeaderFrame: add('header'), onBodyFrame: add('body'), onHeartbeatFrame: (ch) => add('hb')(ch, Buffer.alloc(0)) };
  const reader = new FrameReader(sink, frameMax);
  reader.push(Buffer.concat(out));
  expect(reader.midFrame).toBe(false);
  return frames;
}

const props = encodeProperties({ contentType: 'text/plain', deliveryMode: 2, headers: { a: 'b' } });

describe('delivery encoding', () => {
  it('a small basic.deliver is one Buffer: method + header + body, byte-identical to amqplib', () => {
    const out: Buffer[] = [];
    const n = writeDeliver(out, 3, 131072, 'ctag', 9, true, 'ex', 'rk', props, Buffer.from('hello'));
    expect(out).toHaveLength(1);
    expect(n).toBe(out[0].length);
    const expected = Buffer.concat([
      amqplibDefs.encodeMethod(M.basicDeliver, 3, { consumerTag: 'ctag', deliveryTag: 9, redelivered: true, exchange: 'ex', routingKey: 'rk' }),
      amqplibDefs.encodeProperties(60, 3, 5, { contentType: 'text/plain', deliveryMode: 2, headers: { a: 'b' } }),
      Buffer.from([3, 0, 3, 0, 0, 0, 5]),
      Buffer.from('hello'),
      Buffer.from([0xce]),
    ]);
    expect(out[0].toString('hex')).toBe(expected.toString('hex'));
  });

  it('an empty body sends no body frame', () => {
    const out: Buffer[] = [];
    writeDeliver(out, 1, 4096, 't', 1, false, '', 'q', props, Buffer.alloc(0));
    const frames = parse(out, 4096);
    expect(frames.map((f) => f.type)).toEqual(['method', 'header']);
    expect(contentHeaderBodySize(frames[1].payload)).toBe(0);
  });

  for (const [what, size, frameMax] of [
    ['inline body split across frames', 10_000, 4096],
    ['inline body of exactly one full frame', 4096 - 8, 4096],
    ['large body sliced without copying', 1_000_000, 131072],
    ['large body, small frame-max', INLINE_BODY_MAX + 1, 4096],
    ['large body, one frame', 100_000, 131072],
  ] as const) {
    it(`${what} (${size} octets, frame-max ${frameMax})`, () => {
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
      const out: Buffer[] = [];
      const n = writeDeliver(out, 5, frameMax, 'c', 1, false, 'e', 'k', props, body);
      expect(n).toBe(out.reduce((s, b) => s + b.length, 0));
      if (size > INLINE_BODY_MAX) {
        expect(out.some((b) => b.buffer === body.buffer)).toBe(true); // the body is sliced, not copied
      } else {
        expect(out).toHaveLength(1);
      }
      const frames = parse(out, frameMax);
      expect(frames[0].type).toBe('method');
      expect(frames[1].type).toBe('header');
      expect(contentHeaderClassId(frames[1].payload)).toBe(60);
      expect(contentHeaderBodySize(frames[1].payload)).toBe(size);
      expect(decodeProperties(propertiesView(frames[1].payload))).toEqual({ contentType: 'text/plain', deliveryMode: 2, headers: { a: 'b' } });
      const bodies = frames.slice(2);
      expect(bodies.every((f) => f.type === 'body' && f.channel === 5 && f.size <= frameMax)).toBe(true);
      expect(bodies).toHaveLength(Math.ceil(size / (frameMax - 8)));
      expect(Buffer.concat(bodies.map((f) => f.payload)).equals(body)).toBe(true);
    });
  }

  it('basic.get-ok and basic.return carry their fields', () => {
    const out: Buffer[] = [];
    writeGetOk(out, 2, 4096, 17, true, 'ex', 'rk', 41, props, Buffer.from('x'));
    writeReturn(out, 2, 4096, 312, 'NO_ROUTE', 'ex', 'rk', props, Buffer.from('y'));
    const frames = parse(out, 4096);
    expect(frames.map((f) => f.type)).toEqual(['method', 'header', 'body', 'method', 'header', 'body']);
    expect(decodeMethod(frames[0].payload)).toEqual({ id: M.basicGetOk, deliveryTag: 17, redelivered: true, exchange: 'ex', routingKey: 'rk', messageCount: 41 });
    expect(decodeMethod(frames[3].payload)).toEqual({ id: M.basicReturn, replyCode: 312, replyText: 'NO_ROUTE', exchange: 'ex', routingKey: 'rk' });
    expect(Buffer.concat(out).equals(Buffer.concat([
      amqplibDefs.encodeMethod(M.basicGetOk, 2, { deliveryTag: 17, redelivered: true, exchange: 'ex', routingKey: 'rk', messageCount: 41 }),
      amqplibDefs.encodeProperties(60, 2, 1, { contentType: 'text/plain', deliveryMode: 2, headers: { a: 'b' } }),
      Buffer.from([3, 0, 2, 0, 0, 0, 1, 0x78, 0xce]),
      amqplibDefs.encodeMethod(M.basicReturn, 2, { replyCode: 312, replyText: 'NO_ROUTE', exchange: 'ex', routingKey: 'rk' }),
      amqplibDefs.encodeProperties(60, 2, 1, { contentType: 'text/plain', deliveryMode: 2, headers: { a: 'b' } }),
      Buffer.from([3, 0, 2, 0, 0, 0, 1, 0x79, 0xce]),
    ]))).toBe(true);
  });

  it('a routing key longer than a short string is refused before anything is written', () => {
    const out: Buffer[] = [];
    expect(() => writeDeliver(out, 1, 4096, 'c', 1, false, 'e', 'k'.repeat(256), props, Buffer.alloc(1))).toThrow(TypeError);
    expect(out).toHaveLength(0);
  });

  it('content headers shorter than their fixed part are 501', () => {
    expect(() => checkContentHeader(Buffer.alloc(13))).toThrow(/FRAME_ERROR/);
    expect(() => checkContentHeader(Buffer.alloc(14))).not.toThrow();
  });
});
