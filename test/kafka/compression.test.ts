/**
 * Compressed record batches: snappy (raw and Kafka Java's xerial framing), lz4 (frame format)
 * and zstd decode to the records they hold; each codec's bomb is refused with
 * MESSAGE_TOO_LARGE before it is inflated past the budget (zstd: a window past it is refused
 * before the decoder allocates it); data that does not inflate is CORRUPT_MESSAGE. Then kcat
 * (librdkafka) produces with `-z gzip|snappy|lz4|zstd` and reads every record back.
 */
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchError, decodeBatches, encodeBatch, type KafkaRecord } from '../../plugins/kafka/codec/records.js';
import { COMPRESSION_LZ4, COMPRESSION_SNAPPY, COMPRESSION_ZSTD, decompress } from '../../plugins/kafka/codec/compression.js';
import { crc32c } from '../../plugins/kafka/codec/crc32c.js';
import { gzipSync } from 'node:zlib';
import { FUZZ_SEED } from '../helpers/fuzz-seed.js';
import { Prng } from '../helpers/prng.js';
import { kcat, kcatAvailable } from './kcat-run.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

const haveKcat = kcatAvailable('test/kafka/compression.test.ts');

/** `zstd -19` of "hello zstd records" */
const ZSTD_HELLO = Buffer.from('KLUv/SQSkQAAaGVsbG8genN0ZCByZWNvcmRzHEnJ9Q==', 'base64');
/** `zstd --no-check` of 4,000,000 zero bytes (143 bytes, 2 MiB window) */
const ZSTD_ZEROS = Buffer.from(
  'KLUv/YBYAAk9AFQAABAAAAEA+/85wAICABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAANICAA=',
  'base64',
);

const records: KafkaRecord[] = Array.from({ length: 50 }, (_, i) => ({
  offset: i,
  timestamp: 1_700_000_000_000 + i,
  key: Buffer.from(`k${i % 5}`),
  value: Buffer.from(`value ${i} `.repeat(20)),
  headers: [{ key: 'h', value: Buffer.from('v') }],
}));

/** `records` as one batch whose records part `compress` compressed, attribute `codec` */
function compressedBatch(codec: number, compress: (b: Buffer) => Buffer): Buffer {
  const plain = encodeBatch(records);
  const payload = compress(plain.subarray(61));
  const out = Buffer.concat([plain.subarray(0, 61), payload]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(codec, 21);
  out.writeUInt32BE(crc32c(out, 21), 17);
  return out;
}

function codeOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof BatchError) return e.code;
    throw e;
  }
  return 0;
}

/** Kafka Java's snappy framing: magic, version 1, compatible version 1, then length-prefixed raw blocks */
function xerial(b: Buffer): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const blocks = [b.subarray(0, 1000), b.subarray(1000)].map((part) => {
    const c = snappyCompress(part);
    const len = Buffer.alloc(4);
    len.writeInt32BE(c.length);
    return Buffer.concat([len, c]);
  });
  return Buffer.concat([header, ...blocks]);
}

describe('compressed record batches', () => {
  it('snappy (raw and xerial-framed), lz4 and zstd decode to their records', () => {
    for (const batch of [
      compressedBatch(COMPRESSION_SNAPPY, (b) => snappyCompress(b)),
      compressedBatch(COMPRESSION_SNAPPY, xerial),
      compressedBatch(COMPRESSION_LZ4, (b) => compressFrameSync(b)),
    ]) {
      expect(decodeBatches(batch, { left: 1 << 20 })[0]!.records).toEqual(records);
    }
    expect(decompress(COMPRESSION_ZSTD, ZSTD_HELLO, { left: 1000 }).toString()).toBe('hello zstd records');
  });

  it('bombs are MESSAGE_TOO_LARGE and take nothing past the budget; garbage is CORRUPT_MESSAGE', () => {
    const zeros = Buffer.alloc(4_000_000);
    const budget = () => ({ left: 1 << 20 });
    expect(codeOf(() => decompress(COMPRESSION_SNAPPY, snappyCompress(zeros), budget()))).toBe(10);
    expect(codeOf(() => decompress(COMPRESSION_LZ4, compressFrameSync(zeros), budget()))).toBe(10);
    expect(codeOf(() => decompress(COMPRESSION_ZSTD, ZSTD_ZEROS, budget()))).toBe(10);
    // within a larger budget the same data inflates, and takes its size from the budget
    const big = { left: 8_000_000 };
    expect(decompress(COMPRESSION_ZSTD, ZSTD_ZEROS, big)).toHaveLength(4_000_000);
    expect(big.left).toBe(4_000_000);
    // a zstd frame header claiming a 3.75 GiB window is refused before the decoder allocates it
    const hugeWindow = Buffer.from(ZSTD_ZEROS);
    hugeWindow[5] = 0xff;
    expect(codeOf(() => decompress(COMPRESSION_ZSTD, hugeWindow, budget()))).toBe(10);
    for (const codec of [COMPRESSION_SNAPPY, COMPRESSION_LZ4, COMPRESSION_ZSTD]) {
      expect(codeOf(() => decompress(codec, Buffer.from('definitely not compressed data'), budget()))).toBe(2);
    }
    const torn = compressFrameSync(Buffer.from('some records'));
    expect(codeOf(() => decompress(COMPRESSION_LZ4, torn.subarray(0, torn.length - 3), budget()))).toBe(2);
  });
});

describe('compressed payload fuzz', () => {
  it('mutated and truncated gzip, snappy, lz4 and zstd data: inflated within the budget or BatchError, never another exception', () => {
    const rng = new Prng(FUZZ_SEED ^ 0x7a7a);
    const plain = Buffer.from('records '.repeat(300));
    const samples: [number, Buffer][] = [
      [1, gzipSync(plain)],
      [COMPRESSION_SNAPPY, snappyCompress(plain)],
      [COMPRESSION_SNAPPY, xerial(plain)],
      [COMPRESSION_LZ4, compressFrameSync(plain)],
      [COMPRESSION_ZSTD, ZSTD_HELLO],
      [COMPRESSION_ZSTD, ZSTD_ZEROS],
    ];
    let inflated = 0;
    for (let i = 0; i < 3000; i++) {
      const [codec, sample] = samples[rng.int(samples.length)]!;
      const b = Buffer.from(sample);
      const kind = rng.int(3);
      if (kind === 0) for (let j = 0; j < 1 + rng.int(3); j++) b[rng.int(b.length)] = rng.int(256);
      const input = kind === 1 ? b.subarray(0, rng.int(b.length)) : b;
      const budget = { left: 1 << 20 };
      try {
        const out = decompress(codec, input, budget);
        expect(out.length).toBeLessThanOrEqual(1 << 20);
        inflated++;
      } catch (e) {
        if (!(e instanceof BatchError)) throw e;
      }
    }
    expect(inflated).toBeGreaterThan(0);
  });
});

let b: KafkaTestBroker;
beforeAll(async () => {
  if (haveKcat) b = await startKafkaBroker();
});
afterAll(() => b?.stop());

describe.skipIf(!haveKcat)('kcat -z (librdkafka compresses, Warren inflates)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    it(`${codec}: every record produced is read back`, async () => {
      const topic = uniqueTopic(`z-${codec}`);
      const lines = Array.from({ length: 200 }, (_, i) => `${codec} record ${i} ${'x'.repeat(i % 50)}`);
      const broker = `127.0.0.1:${b.kafkaPort}`;
      const produced = await kcat(['-b', broker, '-t', topic, '-P', '-z', codec, '-X', 'acks=all', '-X', 'linger.ms=50'], `${lines.join('\n')}\n`);
      expect(produced.code, produced.stderr).toBe(0);
      const read = await kcat(['-b', broker, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-c', String(lines.length)]);
      expect(read.code, read.stderr).toBe(0);
      expect(read.stdout.trim().split('\n')).toEqual(lines);
    }, 60_000);
  }
});
