import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/core/errors.js';
import { Message } from '../../../src/core/message.js';
import { encodeProperties, decodeProperties } from '../../../src/codec/basic-properties.js';
import { ContentAssembler, encodedPropertiesOf } from '../../../plugins/amqp/message.js';

function header(size: number, props = encodeProperties({ contentType: 'text/plain', deliveryMode: 2 }), classId = 60): Buffer {
  const b = Buffer.alloc(12 + props.length);
  b.writeUInt16BE(classId, 0);
  b.writeUInt32BE(Math.floor(size / 2 ** 32), 4);
  b.writeUInt32BE(size >>> 0, 8);
  props.copy(b, 12);
  return b;
}

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BrokerError) return `${e.replyCode} ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('ContentAssembler', () => {
  it('publish → header → bodies → Message with the received property bytes', () => {
    const a = new ContentAssembler();
    a.begin('ex', 'rk', true);
    expect(a.stage).toBe('header');
    const h = header(6);
    expect(a.header(h, 1000)).toBe(false);
    expect(a.stage).toBe('body');
    expect(a.body(Buffer.from('abc'))).toBe(false);
    expect(a.body(Buffer.from('def'))).toBe(true);
    expect(a.mandatory).toBe(true);
    const m = a.take();
    expect(m).toBeInstanceOf(Message);
    expect(m.body.toString()).toBe('abcdef');
    expect(m.exchange).toBe('ex');
    expect(m.routingKey).toBe('rk');
    expect(m.persistent).toBe(true);
    expect(m.properties).toEqual({ contentType: 'text/plain', deliveryMode: 2 });
    expect(m.encodedProperties).toEqual(h.subarray(12));
    expect(m.encodedProperties!.buffer).not.toBe(h.buffer); // copied off the frame
    expect(a.stage).toBe('idle');
  });

  it('an empty body completes at the header', () => {
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    expect(a.header(header(0), 1000)).toBe(true);
    expect(a.take().body.length).toBe(0);
  });

  it('copies a small body out of a large chunk, keeps a body that fills its buffer', () => {
    const chunk = Buffer.alloc(65536, 7);
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    a.header(header(100), 1e6);
    a.body(chunk.subarray(10, 110));
    expect(a.take().body.buffer).not.toBe(chunk.buffer);

    const big = Buffer.alloc(60000, 1);
    a.begin('', 'q', false);
    a.header(header(60000), 1e6);
    a.body(big);
    expect(a.take().body.buffer).toBe(big.buffer);
  });

  it('refuses a body over max_message_size at the header, with RabbitMQ text (406)', () => {
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    expect(kindOf(() => a.header(header(2001), 2000))).toBe('406 PRECONDITION_FAILED - message size 2001 is larger than configured max size 2000');
  });

  it('refuses a content header of another class (505) and body frames beyond the announced size (505)', () => {
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    expect(kindOf(() => a.header(header(1, undefined, 50), 100))).toMatch(/^505 UNEXPECTED_FRAME/);
    a.begin('', 'q', false);
    a.header(header(2), 100);
    expect(kindOf(() => a.body(Buffer.from('abc')))).toMatch(/^505 UNEXPECTED_FRAME/);
  });

  it('refuses an invalid expiration (406, as RabbitMQ validates it on publish)', () => {
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    expect(kindOf(() => a.header(header(0, encodeProperties({ expiration: 'soon' })), 100))).toMatch(/^406 PRECONDITION_FAILED - invalid expiration/);
  });

  it('refuses malformed properties (501)', () => {
    const a = new ContentAssembler();
    a.begin('', 'q', false);
    expect(kindOf(() => a.header(header(0, Buffer.from([0x80, 0, 9])), 100))).toMatch(/^501 FRAME_ERROR/);
    expect(kindOf(() => a.header(Buffer.alloc(5), 100))).toMatch(/^501 FRAME_ERROR/);
  });
});

describe('encodedPropertiesOf', () => {
  it('uses the received bytes, or encodes a message made elsewhere', () => {
    const bytes = encodeProperties({ appId: 'a' });
    expect(encodedPropertiesOf(new Message('', 'q', { appId: 'a' }, Buffer.alloc(0), bytes))).toBe(bytes);
    const made = new Message('', 'q', { correlationId: 'c', headers: { n: 1 } }, Buffer.alloc(0));
    expect(decodeProperties(encodedPropertiesOf(made))).toEqual({ correlationId: 'c', headers: { n: 1 } });
    expect(made.encodedProperties).toBeNull(); // nothing cached on the shared message
  });
});
