import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/core/errors.js';
import { FrameReader, type FrameSink } from '../../../plugins/amqp/codec/frame-reader.js';
import { HEARTBEAT_FRAME, PROTOCOL_HEADER, checkProtocolHeader } from '../../../plugins/amqp/codec/constants.js';
import { M, encodeMethodFrame } from '../../../plugins/amqp/codec/methods.js';
import { amqplibDefs } from './amqplib-reference.js';

type Seen = [kind: string, channel: number, payloadHex: string];

class Recorder implements FrameSink {
  seen: Seen[] = [];
  payloads: Buffer[] = [];
  onMethodFrame(channel: number, payload: Buffer): void {
    this.#add('method', channel, payload);
  }
  onHeaderFrame(channel: number, payload: Buffer): void {
    this.#add('header', channel, payload);
  }
  onBodyFrame(channel: number, payload: Buffer): void {
    this.#add('body', channel, payload);
  }
  onHeartbeatFrame(channel: number): void {
    this.#add('heartbeat', channel, Buffer.alloc(0));
  }
  #add(kind: string, channel: number, payload: Buffer) {
    this.seen.push([kind, channel, payload.toString('hex')]);
    this.payloads.push(payload);
  }
}

function frame(type: number, channel: number, payload: Buffer, end = 0xce): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(payload.length, 3);
  payload.copy(b, 7);
  b[7 + payload.length] = end;
  return b;
}

const stream = Buffer.concat([
  encodeMethodFrame(1, { id: M.basicPublish, exchange: 'x', routingKey: 'rk', mandatory: false, immediate: false }),
  amqplibDefs.encodeProperties(60, 1, 5, { contentType: 'text/plain' }),
  frame(3, 1, Buffer.from('hello')),
  HEARTBEAT_FRAME,
  frame(3, 2, Buffer.alloc(300, 7)),
  encodeMethodFrame(0, { id: M.connectionCloseOk }),
]);

function readAll(chunks: Buffer[], frameMax = 131072): Recorder {
  const rec = new Recorder();
  const reader = new FrameReader(rec, frameMax);
  for (const c of chunks) reader.push(c);
  expect(reader.midFrame).toBe(false);
  return rec;
}

describe('FrameReader', () => {
  const whole = readAll([stream]).seen;

  it('hands each frame to the sink with its channel and payload', () => {
    expect(whole.map(([k, ch]) => `${k}@${ch}`)).toEqual(['method@1', 'header@1', 'body@1', 'heartbeat@0', 'body@2', 'method@0']);
    expect(whole[2][2]).toBe(Buffer.from('hello').toString('hex'));
  });

  it('frames inside one chunk are zero-copy views of it', () => {
    const rec = readAll([stream]);
    for (const p of rec.payloads) if (p.length > 0) expect(p.buffer).toBe(stream.buffer);
  });

  it('gives the same frames however the stream is cut (every split point, and byte by byte)', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(readAll([stream.subarray(0, cut), stream.subarray(cut)]).seen).toEqual(whole);
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(readAll(bytes).seen).toEqual(whole);
  });

  it('gives the same frames for random chunkings', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let run = 0; run < 200; run++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rand() * 40);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(readAll(chunks).seen).toEqual(whole);
    }
  });

  it('accepts a frame of exactly frame-max and refuses one octet more (501)', () => {
    expect(readAll([frame(3, 1, Buffer.alloc(4096 - 8))], 4096).seen).toHaveLength(1);
    const reader = new FrameReader(new Recorder(), 4096);
    expectFrameError(() => reader.push(frame(3, 1, Buffer.alloc(4096 - 7))));
  });

  it('refuses a too-large frame as soon as its header arrives, before buffering it', () => {
    const reader = new FrameReader(new Recorder(), 4096);
    const header = frame(3, 1, Buffer.alloc(100_000)).subarray(0, 7);
    expectFrameError(() => reader.push(header));
  });

  it('follows a frame-max changed between chunks (after connection.tune-ok)', () => {
    const rec = new Recorder();
    const reader = new FrameReader(rec, 131072);
    reader.push(frame(3, 1, Buffer.alloc(5000)));
    reader.frameMax = 4096;
    expectFrameError(() => reader.push(frame(3, 1, Buffer.alloc(5000))));
  });

  it('a wrong frame-end octet is 501', () => {
    expectFrameError(() => new FrameReader(new Recorder(), 0).push(frame(1, 0, Buffer.from('000a0033', 'hex'), 0xff)));
  });

  it('an unknown frame type is 501', () => {
    expectFrameError(() => new FrameReader(new Recorder(), 0).push(frame(5, 0, Buffer.alloc(0))));
  });

  it('a heartbeat with a payload is 501', () => {
    expectFrameError(() => new FrameReader(new Recorder(), 0).push(frame(8, 0, Buffer.from('ab', 'hex'))));
  });
});

describe('protocol header', () => {
  it('recognises AMQP 0-9-1, waits for more of a matching prefix, refuses anything else at once', () => {
    expect(checkProtocolHeader(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'))).toBe('ok');
    expect(checkProtocolHeader(PROTOCOL_HEADER)).toBe('ok');
    expect(checkProtocolHeader(Buffer.from('AMQ'))).toBe('incomplete');
    expect(checkProtocolHeader(Buffer.alloc(0))).toBe('incomplete');
    expect(checkProtocolHeader(Buffer.from('AMQP\x01\x01\x00\x09', 'latin1'))).toBe('bad'); // 0-9 legacy
    expect(checkProtocolHeader(Buffer.from('AMQP\x00\x00\x08\x00', 'latin1'))).toBe('bad');
    expect(checkProtocolHeader(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('bad');
    expect(checkProtocolHeader(Buffer.from('G'))).toBe('bad');
  });
});

function expectFrameError(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    expect((e as BrokerError).kind).toBe('FRAME_ERROR');
    expect((e as BrokerError).replyCode).toBe(501);
    return;
  }
  throw new Error('no error');
}
