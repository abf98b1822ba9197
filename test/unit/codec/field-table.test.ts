import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/core/errors.js';
import { TypedValue, type FieldTable } from '../../../src/codec/types.js';
import { decodeFieldTable } from '../../../src/codec/field-table.js';
import { encodeFieldTable, fieldTableSize } from '../../../src/codec/field-table-writer.js';
import { amqplibCodec, amqplibTable } from '../amqp/amqplib-reference.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** decode a table given with its length prefix */
const decode = (buf: Buffer) => decodeFieldTable(buf, 4, 4 + buf.readUInt32BE(0));

/** One entry per RabbitMQ field type: key "k", the value's bytes, what it decodes to. */
const TYPE_FIXTURES: Array<[tag: string, valueHex: string, value: unknown]> = [
  ['t', '74 01', true],
  ['t', '74 00', false],
  ['b', '62 ff', new TypedValue('b', -1)],
  ['B', '42 ff', new TypedValue('B', 255)],
  ['s', '73 8000', new TypedValue('s', -32768)],
  ['u', '75 ffff', new TypedValue('u', 65535)],
  ['I', '49 fffffffe', -2],
  ['i', '69 ffffffff', new TypedValue('i', 4294967295)],
  ['l', '6c 0000010000000000', 2 ** 40],
  ['l', '6c 0000000000000005', new TypedValue('l', 5)],
  ['l', '6c 7fffffffffffffff', 2n ** 63n - 1n],
  ['f', '66 3fc00000', new TypedValue('f', 1.5)],
  ['d', '64 3ff8000000000000', 1.5],
  ['d', '64 4000000000000000', new TypedValue('d', 2)],
  ['D', '44 02 000004d2', new TypedValue('D', { places: 2, digits: 1234 })],
  ['S', '53 00000003 616263', 'abc'],
  ['S', '53 00000002 c3a9', 'é'],
  ['S', '53 00000001 ff', new TypedValue('S', Buffer.from([0xff]))],
  ['x', '78 00000003 010203', Buffer.from([1, 2, 3])],
  ['A', '41 0000000a 49 00000001 53 00000000', [1, '']],
  ['T', '54 0000000065920080', new Date(1704067200 * 1000)],
  ['F', '46 00000007 01 61 49 00000007', { a: 7 }],
  ['V', '56', null],
];

describe('field tables: every RabbitMQ type, decode → value and encode → same bytes', () => {
  for (const [tag, valueHex, value] of TYPE_FIXTURES) {
    it(`'${tag}' ${valueHex}`, () => {
      const content = Buffer.concat([hex('01 6b'), hex(valueHex)]); // key "k"
      const table = Buffer.concat([Buffer.from([0, 0, 0, content.length]), content]);
      const decoded = decode(table);
      expect(decoded).toEqual({ k: value });
      expect(encodeFieldTable(decoded).toString('hex')).toBe(table.toString('hex'));
      expect(fieldTableSize(decoded)).toBe(table.length);
    });
  }

  it('a table with all types at once, nested in an array and a table', () => {
    const parts = TYPE_FIXTURES.map(([, v], i) => Buffer.concat([Buffer.from([2]), Buffer.from(`k${String.fromCharCode(97 + i)}`), hex(v)]));
    const content = Buffer.concat(parts);
    const outer = Buffer.concat([hex('01 6e 46'), u32(content.length), content, hex('01 61 41'), u32(content.length + 5), hex('46'), u32(content.length), content]);
    const table = Buffer.concat([u32(outer.length), outer]);
    const decoded = decode(table);
    expect(Object.keys(decoded.n as FieldTable)).toHaveLength(TYPE_FIXTURES.length);
    expect(encodeFieldTable(decoded)).toEqual(table);
  });
});

describe('field tables against amqplib', () => {
  const tables: Record<string, unknown>[] = [
    { 'x-max-priority': 10, 'x-message-ttl': 60000, 'x-expires': 2 ** 35, 'x-dead-letter-exchange': 'dlx' },
    { ratio: 0.25, neg: -200, big: -(2 ** 40), flag: false, nothing: null, bytes: Buffer.from('xyz') },
    { nested: { deeper: { list: [1, 'two', [3, { four: 4 }], true] } } },
    { typed: { '!': 'timestamp', value: 1700000000 }, f: { '!': 'float', value: 0.5 }, dec: { '!': 'decimal', value: { places: 1, digits: 5 } } },
    { u8: { '!': 'uint8', value: 200 }, u16: { '!': 'uint16', value: 60000 }, u32: { '!': 'uint32', value: 4e9 } },
    { 'x-death': [{ count: 1, reason: 'expired', queue: 'q', time: { '!': 'timestamp', value: 1700000000 }, exchange: '', 'routing-keys': ['q'] }] },
    {},
  ];
  for (const t of tables) {
    it(`decode(amqplib(${JSON.stringify(t).slice(0, 60)})) encodes to the same bytes`, () => {
      const bytes = amqplibTable(t);
      const decoded = decode(bytes);
      expect(encodeFieldTable(decoded).toString('hex')).toBe(bytes.toString('hex'));
    });
  }

  it('plain JS values encode as types/codec.ts says, and amqplib reads them back', () => {
    const table: FieldTable = {
      s: 'text',
      i: 5,
      l: 2 ** 40,
      d: 1.5,
      big: 2n ** 62n,
      t: true,
      x: Buffer.from([9]),
      when: new Date(1700000000 * 1000),
      v: null,
      a: [1, 'a'],
      f: { inner: 'yes' },
    };
    const bytes = encodeFieldTable(table);
    // tags in order: S I l d l t x T V A F
    const back = amqplibCodec.decodeFields(bytes.subarray(4));
    expect(back.s).toBe('text');
    expect(back.i).toBe(5);
    expect(back.l).toBe(2 ** 40);
    expect(back.d).toBe(1.5);
    expect(back.big).toBe(Number(2n ** 62n));
    expect(back.t).toBe(true);
    expect(back.when).toEqual({ '!': 'timestamp', value: 1700000000 });
    expect(back.a).toEqual([1, 'a']);
    expect(back.f).toEqual({ inner: 'yes' });
    expect(decode(bytes)).toEqual(table);
    expect(bytes.includes(hex('0169 49 00000005'))).toBe(true); // "i" as int32
  });

  it('skips undefined entries, as amqplib does', () => {
    expect(encodeFieldTable({ a: undefined as unknown as null, b: 1 })).toEqual(amqplibTable({ a: undefined, b: { '!': 'int32', value: 1 } }));
  });

  it('a key named __proto__ is an own property, not a prototype', () => {
    const bytes = hex('0000000b 09 5f5f70726f746f5f5f 56');
    const t = decode(bytes);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(Object.keys(t)).toEqual(['__proto__']);
    expect(encodeFieldTable(t)).toEqual(bytes);
  });
});

describe('malformed field tables are 501 FRAME_ERROR', () => {
  const bad: Array<[string, string]> = [
    ['unknown tag', '01 6b 7a'],
    ['truncated value', '01 6b 49 0000'],
    ['truncated key', '05 6b'],
    ['string longer than the table', '01 6b 53 000000ff 61'],
    ['array length past the end', '01 6b 41 00000010 56'],
    ['no value after the key', '01 6b'],
  ];
  for (const [what, h] of bad) {
    it(what, () => {
      const content = hex(h);
      expect(() => decodeFieldTable(content, 0, content.length)).toThrow(BrokerError);
      try {
        decodeFieldTable(content, 0, content.length);
      } catch (e) {
        expect((e as BrokerError).replyCode).toBe(501);
      }
    });
  }

  it('nesting deeper than the limit', () => {
    let inner = hex('00000000');
    for (let i = 0; i < 100; i++) inner = Buffer.concat([u32(inner.length + 3), hex('01 6b 46'), inner]);
    expect(() => decode(inner)).toThrow(BrokerError);
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
