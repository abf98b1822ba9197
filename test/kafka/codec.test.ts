/** The Kafka codec: CRC-32C vectors, primitives, record batches both ways, request headers. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../plugins/kafka/codec/crc32c.js';
import { Reader } from '../../plugins/kafka/codec/reader.js';
import { Writer } from '../../plugins/kafka/codec/writer.js';
import { BatchError, decodeBatches, encodeBatch } from '../../plugins/kafka/codec/records.js';
import { readRequestHeader } from '../../plugins/kafka/codec/header.js';

describe('CRC-32C', () => {
  it('matches the RFC 3720 B.4 and the check vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_v, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_v, i) => 31 - i)))).toBe(0x113fdb5c);
  });
});

describe('primitives', () => {
  it('round-trips varints, varlongs, strings, compact forms and arrays', () => {
    const w = new Writer(4);
    w.varint(0).varint(-1).varint(300).varint(-2147483648).varlong(1_700_000_000_123).varlong(-5);
    w.string('héllo').nullableString(null).compactString('abc').compactNullableString(null).int64(2 ** 40).bool(true);
    w.array([1, 2, 3], (w, v) => w.int32(v)).compactArray(['x'], (w, v) => w.compactString(v)).emptyTaggedFields();
    const r = new Reader(w.toBuffer());
    expect([r.varint(), r.varint(), r.varint(), r.varint(), r.varlong(), r.varlong()]).toEqual([0, -1, 300, -2147483648, 1_700_000_000_123, -5]);
    expect([r.string(), r.nullableString(), r.compactString(), r.compactNullableString(), r.int64(), r.bool()]).toEqual(['héllo', null, 'abc', null, 2 ** 40, true]);
    expect(r.array((r) => r.int32())).toEqual([1, 2, 3]);
    expect(r.compactArray((r) => r.compactString())).toEqual(['x']);
    r.skipTaggedFields();
    expect(r.remaining).toBe(0);
  });

  it('encodes zig-zag varints as the protocol guide shows', () => {
    expect(new Writer().varint(1).toBuffer()).toEqual(Buffer.from([0x02]));
    expect(new Writer().varint(-1).toBuffer()).toEqual(Buffer.from([0x01]));
    expect(new Writer().varint(150).toBuffer()).toEqual(Buffer.from([0xac, 0x02]));
  });

  it('refuses reads past the end and arrays longer than their bytes', () => {
    expect(() => new Reader(Buffer.from([0, 5, 65])).string()).toThrow(/truncated/);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8())).toThrow(/array/);
  });
});

describe('record batches (magic 2)', () => {
  const records = [
    { offset: 10, timestamp: 1_700_000_000_000, key: Buffer.from('k'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }] },
    { offset: 12, timestamp: 1_700_000_000_005, key: null, value: null, headers: [] },
  ];

  it('encodes and decodes, offsets with gaps, null key and value, headers', () => {
    const batch = encodeBatch(records);
    expect(batch.readInt8(16)).toBe(2);
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch, 21));
    const [d] = decodeBatches(batch, { left: 1 << 20 });
    expect(d!.records).toEqual(records);
    expect(d!.lastOffsetDelta).toBe(2);
  });

  it('a fixed batch: the bytes are those of the layout', () => {
    const batch = encodeBatch([{ offset: 0, timestamp: 0, key: null, value: Buffer.from('a'), headers: [] }]);
    // baseOffset 0, length 57, epoch -1, magic 2, crc, attributes 0, lastOffsetDelta 0, timestamps 0, pid -1, epoch -1, seq -1, count 1
    expect(batch.subarray(0, 17).toString('hex')).toBe('0000000000000000' + '00000039' + 'ffffffff' + '02');
    expect(batch.subarray(21).toString('hex')).toBe(
      '0000' + '00000000' + '0000000000000000' + '0000000000000000' + 'ffffffffffffffff' + 'ffff' + 'ffffffff' + '00000001' + '0e' + '00' + '00' + '00' + '01' + '02' + '61' + '00',
    );
  });

  it('reads gzip batches and refuses an unknown codec, bad CRCs and torn batches', () => {
    const gz = encodeBatch(records, { compression: 1 });
    expect(decodeBatches(gz, { left: 1 << 20 })[0]!.records).toEqual(records);
    const bad = Buffer.from(encodeBatch(records));
    bad[bad.length - 1] ^= 1;
    expect(() => decodeBatches(bad, { left: 1 << 20 })).toThrow(BatchError);
    // codec 5 does not exist (snappy, lz4, zstd: compression.test.ts)
    const unknownCodec = Buffer.from(encodeBatch(records));
    unknownCodec.writeInt16BE(5, 21);
    unknownCodec.writeUInt32BE(crc32c(unknownCodec, 21), 17);
    try {
      decodeBatches(unknownCodec, { left: 1 << 20 });
      expect.unreachable();
    } catch (e) {
      expect((e as BatchError).code).toBe(76);
    }
    const torn = encodeBatch(records).subarray(0, 40);
    expect(() => decodeBatches(torn, { left: 1 << 20 })).toThrow(BatchError);
    // a gzip bomb is bounded
    const bomb = Buffer.from(encodeBatch(records, { compression: 1 }));
    const inflated = gzipSync(Buffer.alloc(1 << 20));
    const big = Buffer.concat([bomb.subarray(0, 61), inflated]);
    big.writeInt32BE(big.length - 12, 8);
    big.writeUInt32BE(crc32c(big, 21), 17);
    expect(() => decodeBatches(big, { left: 1024 })).toThrow(BatchError);
  });
});

describe('request headers', () => {
  it('reads v1 and flexible v2 headers', () => {
    const v1 = new Writer().int16(3).int16(8).int32(42).string('cli').toBuffer();
    expect(readRequestHeader(new Reader(v1))).toMatchObject({ apiKey: 3, apiVersion: 8, correlationId: 42, clientId: 'cli', flexible: false });
    const v2 = new Writer().int16(18).int16(3).int32(7).string('rdkafka').emptyTaggedFields().compactString('librdkafka').compactString('2.0.2').emptyTaggedFields().toBuffer();
    const r = new Reader(v2);
    expect(readRequestHeader(r)).toMatchObject({ apiKey: 18, apiVersion: 3, flexible: true });
    expect(r.compactString()).toBe('librdkafka');
  });
});
