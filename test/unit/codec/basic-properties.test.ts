import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/core/errors.js';
import { TypedValue, type MessageProperties } from '../../../src/codec/types.js';
import {
  CONTENT_HEADER_PROPERTIES_OFFSET,
  decodeProperties,
  encodeProperties,
  propertiesSize,
  propertiesView,
} from '../../../src/codec/basic-properties.js';
import { amqplibDefs, toAmqplibValue } from '../amqp/amqplib-reference.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const ALL: MessageProperties = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: { 'x-retries': new TypedValue('b', 3), trace: 'abc', nested: { ok: true } },
  deliveryMode: 2,
  priority: 7,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1700000000,
  type: 'order.created',
  userId: 'guest',
  appId: 'shop',
  clusterId: 'c1',
};

/** The properties part of amqplib's content-header frame for `p`. */
function amqplibProperties(p: MessageProperties): Buffer {
  const fields = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, toAmqplibValue(v)]));
  const frame = amqplibDefs.encodeProperties(60, 1, 10, fields);
  return frame.subarray(7 + CONTENT_HEADER_PROPERTIES_OFFSET, frame.length - 1);
}

describe('basic properties', () => {
  it('all 14 properties: amqplib bytes decode to the object and encode back identically', () => {
    const bytes = amqplibProperties(ALL);
    expect(bytes.readUInt16BE(0)).toBe(0xfffc); // flags 15..2 set, continuation bit clear
    expect(decodeProperties(bytes)).toEqual(ALL);
    expect(encodeProperties(ALL).toString('hex')).toBe(bytes.toString('hex'));
    expect(propertiesSize(ALL)).toBe(bytes.length);
  });

  const flagOf: Array<[keyof MessageProperties, number, MessageProperties]> = [
    ['contentType', 0x8000, { contentType: 'text/plain' }],
    ['contentEncoding', 0x4000, { contentEncoding: 'utf-8' }],
    ['headers', 0x2000, { headers: { a: 'b' } }],
    ['deliveryMode', 0x1000, { deliveryMode: 1 }],
    ['priority', 0x0800, { priority: 0 }],
    ['correlationId', 0x0400, { correlationId: 'c' }],
    ['replyTo', 0x0200, { replyTo: 'r' }],
    ['expiration', 0x0100, { expiration: '5' }],
    ['messageId', 0x0080, { messageId: 'm' }],
    ['timestamp', 0x0040, { timestamp: 0 }],
    ['type', 0x0020, { type: 't' }],
    ['userId', 0x0010, { userId: 'u' }],
    ['appId', 0x0008, { appId: 'a' }],
    ['clusterId', 0x0004, { clusterId: 'c' }],
  ];
  for (const [name, flag, p] of flagOf) {
    it(`${name} alone sets flag 0x${flag.toString(16)}`, () => {
      const bytes = encodeProperties(p);
      expect(bytes.readUInt16BE(0)).toBe(flag);
      expect(bytes).toEqual(amqplibProperties(p));
      expect(decodeProperties(bytes)).toEqual(p);
    });
  }

  it('no properties: just a zero flags word', () => {
    expect(encodeProperties({})).toEqual(hex('0000'));
    expect(decodeProperties(hex('0000'))).toEqual({});
  });

  it('hand-checked: content-type + delivery-mode', () => {
    const bytes = hex('9000 0a 746578742f706c61696e 02');
    expect(decodeProperties(bytes)).toEqual({ contentType: 'text/plain', deliveryMode: 2 });
    expect(encodeProperties({ deliveryMode: 2, contentType: 'text/plain' })).toEqual(bytes);
  });

  it('propertiesView is the header payload after class, weight and body size, without a copy', () => {
    const frame = amqplibDefs.encodeProperties(60, 1, 1234, { contentType: 'x', priority: 3 });
    const payload = frame.subarray(7, frame.length - 1);
    const view = propertiesView(payload);
    expect(view.buffer).toBe(payload.buffer);
    expect(decodeProperties(view)).toEqual({ contentType: 'x', priority: 3 });
  });

  it('decodes a range inside a larger buffer', () => {
    const bytes = Buffer.concat([hex('ffff'), encodeProperties({ appId: 'a' }), hex('ee')]);
    expect(decodeProperties(bytes, 2, bytes.length - 1)).toEqual({ appId: 'a' });
  });

  const malformed: Array<[string, string]> = [
    ['continuation flag', '0001 0000'],
    ['flag bit 1', '0002'],
    ['truncated shortstr', '8000 05 6162'],
    ['trailing octets', '0000 00'],
    ['truncated timestamp', '0040 00000000'],
    ['flags missing', '00'],
  ];
  for (const [what, h] of malformed) {
    it(`malformed (${what}) is 501 FRAME_ERROR`, () => {
      try {
        decodeProperties(hex(h));
      } catch (e) {
        expect(e).toBeInstanceOf(BrokerError);
        expect((e as BrokerError).replyCode).toBe(501);
        return;
      }
      throw new Error('decoded');
    });
  }

  it('refuses to encode values that do not fit their wire type', () => {
    expect(() => encodeProperties({ priority: 256 })).toThrow(TypeError);
    expect(() => encodeProperties({ correlationId: 'x'.repeat(256) })).toThrow(TypeError);
    expect(() => encodeProperties({ timestamp: -1 })).toThrow(TypeError);
  });
});
