import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/core/errors.js';
import { TypedValue } from '../../../src/codec/types.js';
import {
  M,
  decodeMethod,
  encodeConfirmFrame,
  encodeMethodFrame,
  encodeMethodPayload,
  methodIdOf,
  methodName,
  type AmqpMethod,
} from '../../../plugins/amqp/codec/methods.js';
import { METHOD_SPECS } from '../../../plugins/amqp/codec/method-table.js';
import { METHOD_FIXTURES } from './method-fixtures.js';
import { amqplibDefs, toAmqplibFields } from './amqplib-reference.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('method fixtures, both ways', () => {
  it('covers every method of the table', () => {
    const covered = new Set(METHOD_FIXTURES.map(([m]) => m.id as number));
    const missing = [...METHOD_SPECS.values()].filter((s) => !covered.has(s.id)).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  for (const [method, payloadHex] of METHOD_FIXTURES) {
    const name = methodName(method.id);
    it(`${name}: decode → object, encode → same bytes`, () => {
      const payload = hex(payloadHex);
      expect(decodeMethod(payload)).toEqual(method);
      expect(encodeMethodPayload(method).toString('hex')).toBe(payloadHex);
    });

    it(`${name}: whole frame equals amqplib's`, () => {
      const ours = encodeMethodFrame(7, method);
      const theirs = amqplibDefs.encodeMethod(method.id, 7, toAmqplibFields(method as unknown as Record<string, unknown>));
      expect(ours.toString('hex')).toBe(theirs.toString('hex'));
    });
  }
});

describe('hand-checked bytes', () => {
  it('basic.publish: ticket, two shortstrs, then mandatory (bit 0) and immediate (bit 1) in one octet', () => {
    const payload = hex('003c0028 0000 04 6c6f6773 01 6b 03');
    expect(decodeMethod(payload)).toEqual({ id: M.basicPublish, ticket: 0, exchange: 'logs', routingKey: 'k', mandatory: true, immediate: true });
  });

  it('basic.nack: longlong tag, multiple bit 0, requeue bit 1', () => {
    expect(decodeMethod(hex('003c0078 0000000100000002 02'))).toEqual({
      id: M.basicNack,
      deliveryTag: 2 ** 32 + 2,
      multiple: false,
      requeue: true,
    });
  });

  it('queue.declare packs its five bits low bit first', () => {
    const m: AmqpMethod = { id: M.queueDeclare, queue: 'q', passive: true, durable: false, exclusive: true, autoDelete: false, noWait: true, arguments: {} };
    // ticket 0000, "q", bits 0b10101 = 0x15, empty table
    expect(encodeMethodPayload(m).toString('hex')).toBe('0032000a' + '0000' + '0171' + '15' + '00000000');
  });

  it('reserved fields are optional when encoding and sent as zero values', () => {
    const frame = encodeMethodFrame(0, { id: M.connectionOpen, virtualHost: '/' });
    expect(frame.toString('hex')).toBe('01' + '0000' + '00000008' + '000a0028' + '012f' + '00' + '00' + 'ce');
  });

  it('connection.start carries a server-properties table', () => {
    const start: AmqpMethod = {
      id: M.connectionStart,
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: { product: 'Warren', capabilities: { 'basic.nack': true } },
      mechanisms: Buffer.from('PLAIN AMQPLAIN'),
      locales: Buffer.from('en_US'),
    };
    const decoded = amqplibDefs.decode(M.connectionStart, encodeMethodPayload(start).subarray(4));
    expect(decoded.serverProperties).toEqual({ product: 'Warren', capabilities: { 'basic.nack': true } });
    expect(String(decoded.mechanisms)).toBe('PLAIN AMQPLAIN');
  });

  it('a table with amqplib small integers round-trips through TypedValue', () => {
    const m = decodeMethod(hex(METHOD_FIXTURES.find(([f]) => f.id === M.queueDeclare)![1]));
    if (m.id !== M.queueDeclare) throw new Error('narrowing');
    expect(m.arguments['x-max-priority']).toEqual(new TypedValue('b', 10));
    expect(m.arguments['x-message-ttl']).toBe(60000);
  });

  it('confirm frames equal amqplib basic.ack / basic.nack', () => {
    expect(encodeConfirmFrame(3, 12, true, true)).toEqual(amqplibDefs.encodeMethod(M.basicAck, 3, { deliveryTag: 12, multiple: true }));
    expect(encodeConfirmFrame(3, 2 ** 40, false, false)).toEqual(
      amqplibDefs.encodeMethod(M.basicNack, 3, { deliveryTag: 2 ** 40, multiple: false, requeue: false }),
    );
  });

  it('names methods the spec way', () => {
    expect(methodName(M.basicConsumeOk)).toBe('basic.consume-ok');
    expect(methodName(M.connectionUpdateSecretOk)).toBe('connection.update-secret-ok');
    expect(methodName(M.basicRecoverAsync)).toBe('basic.recover-async');
    expect(methodName(0x00630001)).toBe('class 99 method 1');
    expect(methodIdOf(hex('003c0028'))).toBe(M.basicPublish);
    expect(methodIdOf(hex('003c'))).toBe(-1);
  });
});

describe('malformed method payloads', () => {
  const expectError = (payload: Buffer, kind: string, replyCode: number) => {
    try {
      decodeMethod(payload);
    } catch (e) {
      expect(e).toBeInstanceOf(BrokerError);
      expect((e as BrokerError).kind).toBe(kind);
      expect((e as BrokerError).replyCode).toBe(replyCode);
      return;
    }
    throw new Error('decoded without error');
  };

  it('a truncated queue.declare is 501 FRAME_ERROR (as RabbitMQ: "cannot decode")', () => {
    expectError(hex('0032000a000003'), 'FRAME_ERROR', 501);
  });
  it('trailing octets after the last field are 501', () => {
    expectError(hex('003c0050 0000000000000001 00 ff'), 'FRAME_ERROR', 501);
    expectError(hex('000a0033 00'), 'FRAME_ERROR', 501);
  });
  it('an unknown class or method is 540 NOT_IMPLEMENTED', () => {
    expectError(hex('00630001'), 'NOT_IMPLEMENTED', 540);
    expectError(hex('003c00ff'), 'NOT_IMPLEMENTED', 540);
  });
  it('fewer than 4 octets is 501', () => {
    expectError(hex('003c'), 'FRAME_ERROR', 501);
  });
  it('an unknown field-table type in arguments is 501', () => {
    expectError(hex('0032000a 0000 0171 00 00000003 017a5a'), 'FRAME_ERROR', 501);
  });
});
