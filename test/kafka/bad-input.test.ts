/**
 * Bad input never crashes the broker nor tears a log: oversized and malformed frames and
 * unknown APIs close the connection, an unknown ApiVersions version is answered v0 with
 * UNSUPPORTED_VERSION (KIP-511), a batch with a wrong CRC is CORRUPT_MESSAGE with nothing
 * appended, a retried idempotent batch is not appended twice, and seeded random mutations
 * of valid requests leave every other client served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESSION_GZIP, encodeBatch } from '../../plugins/kafka/codec/records.js';
import type { Writer } from '../../plugins/kafka/codec/writer.js';
import { FUZZ_SEED } from '../helpers/fuzz-seed.js';
import { Prng } from '../helpers/prng.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';
import { RawKafka } from './raw-client.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker({ max_request_size: 1024 * 1024 });
});
afterAll(() => b?.stop());

const produceBody = (topic: string, batch: Buffer, acks = -1) => (w: Writer) =>
  w.nullableString(null).int16(acks).int32(5000).int32(1).string(topic).int32(1).int32(0).bytes(batch);

function readProduceAnswer(r: NonNullable<Awaited<ReturnType<RawKafka['next']>>>): { errorCode: number; baseOffset: number } {
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32();
  return { errorCode: r.int16(), baseOffset: r.int64() };
}

async function stillServes(): Promise<void> {
  const topic = uniqueTopic('alive');
  const producer = b.client().producer();
  await producer.connect();
  const [res] = await producer.send({ topic, messages: [{ value: 'still here' }] });
  expect(res!.errorCode).toBe(0);
  await producer.disconnect();
}

async function createTopic(topic: string): Promise<void> {
  const admin = b.client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }] });
  await admin.disconnect();
}

describe('bad input', () => {
  it('an oversized frame, a malformed header and an unknown API close the connection', async () => {
    const big = await RawKafka.open(b.kafkaPort);
    const head = Buffer.alloc(4);
    head.writeInt32BE(64 * 1024 * 1024);
    big.send(head);
    expect(await big.next()).toBeNull();
    const torn = await RawKafka.open(b.kafkaPort);
    torn.send(Buffer.from([0, 0, 0, 9, 0, 3, 0, 1, 0, 0, 0, 1, 0xff]));
    expect(await torn.next()).toBeNull();
    const unknown = await RawKafka.open(b.kafkaPort);
    unknown.send(unknown.frame(999, 0, () => {}));
    expect(await unknown.next()).toBeNull();
    const tooNew = await RawKafka.open(b.kafkaPort);
    tooNew.send(tooNew.frame(0, 42, () => {}));
    expect(await tooNew.next()).toBeNull();
    await stillServes();
  }, 30_000);

  it('ApiVersions at an unknown version: v0 answer, UNSUPPORTED_VERSION and the supported ranges', async () => {
    const c = await RawKafka.open(b.kafkaPort);
    c.send(c.frame(18, 77, () => {}));
    const r = (await c.next())!;
    expect(r.int16()).toBe(35);
    const keys = r.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(keys.find((k) => k.key === 0)).toEqual({ key: 0, min: 3, max: 7 });
    c.close();
  });

  it('a record batch with a wrong CRC is CORRUPT_MESSAGE and nothing is appended', async () => {
    const topic = uniqueTopic('crc');
    await createTopic(topic);
    const batch = Buffer.from(encodeBatch([{ offset: 0, timestamp: Date.now(), key: null, value: Buffer.from('x'), headers: [] }]));
    batch[batch.length - 1] ^= 0xff;
    const c = await RawKafka.open(b.kafkaPort);
    c.send(c.frame(0, 7, produceBody(topic, batch)));
    expect(readProduceAnswer((await c.next())!).errorCode).toBe(2);
    c.close();
    expect(b.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(0);
  });

  it('a retried idempotent batch is answered with its first offset and not appended again', async () => {
    const topic = uniqueTopic('idem');
    await createTopic(topic);
    const c = await RawKafka.open(b.kafkaPort);
    c.send(c.frame(22, 1, (w) => w.nullableString(null).int32(60_000)));
    const r = (await c.next())!;
    r.int32();
    expect(r.int16()).toBe(0);
    const producerId = r.int64();
    const epoch = r.int16();
    const recs = (from: number) => [0, 1, 2].map((i) => ({ offset: i, timestamp: Date.now(), key: null, value: Buffer.from(`r${from + i}`), headers: [] }));
    const first = encodeBatch(recs(0), { producerId, producerEpoch: epoch, baseSequence: 0 });
    c.send(c.frame(0, 7, produceBody(topic, first)));
    expect(readProduceAnswer((await c.next())!)).toEqual({ errorCode: 0, baseOffset: 0 });
    c.send(c.frame(0, 7, produceBody(topic, first)));
    expect(readProduceAnswer((await c.next())!)).toEqual({ errorCode: 0, baseOffset: 0 });
    const gap = encodeBatch(recs(10), { producerId, producerEpoch: epoch, baseSequence: 7 });
    c.send(c.frame(0, 7, produceBody(topic, gap)));
    expect(readProduceAnswer((await c.next())!).errorCode).toBe(45);
    const next = encodeBatch(recs(3), { producerId, producerEpoch: epoch, baseSequence: 3 });
    c.send(c.frame(0, 7, produceBody(topic, next)));
    expect(readProduceAnswer((await c.next())!)).toEqual({ errorCode: 0, baseOffset: 3 });
    c.close();
    expect(b.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(6);
  });

  it('gzip batches that each fit but together inflate past the limit: MESSAGE_TOO_LARGE, nothing appended', async () => {
    // a small request of many gzip batches must not hold many times the limit in memory
    const small = await startKafkaBroker({ max_request_size: 64 * 1024 }, undefined, { maxMessageSize: 256 * 1024 });
    try {
      const topic = uniqueTopic('bomb');
      const admin = small.client().admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic }] });
      await admin.disconnect();
      const batch = (n: number) =>
        encodeBatch(
          Array.from({ length: 100 }, (_, i) => ({ offset: i, timestamp: Date.now(), key: null, value: Buffer.alloc(1000, n), headers: [] })),
          { compression: COMPRESSION_GZIP },
        );
      const c = await RawKafka.open(small.kafkaPort);
      c.send(c.frame(0, 7, produceBody(topic, Buffer.concat([batch(1), batch(2)]))));
      expect(readProduceAnswer((await c.next())!)).toEqual({ errorCode: 0, baseOffset: 0 });
      c.send(c.frame(0, 7, produceBody(topic, Buffer.concat([batch(3), batch(4), batch(5)]))));
      expect(readProduceAnswer((await c.next())!).errorCode).toBe(10);
      c.close();
      expect(small.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(200);
    } finally {
      await small.stop();
    }
  }, 30_000);

  it("a record header named CC or BCC (AMQP's routing headers) is INVALID_RECORD, nothing appended, the connection carries on", async () => {
    const topic = uniqueTopic('cc');
    await createTopic(topic);
    const producer = b.client({ retry: { retries: 0 } }).producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: 'fine' }, { value: 'routed?', headers: { CC: 'other-queue' } }] })).rejects.toMatchObject({ type: 'INVALID_RECORD' });
      expect(b.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(0);
      const [ok] = await producer.send({ topic, messages: [{ value: 'after', headers: { cc: 'lower case is any header' } }] });
      expect(ok).toMatchObject({ errorCode: 0, baseOffset: '0' });
    } finally {
      await producer.disconnect();
    }
  });

  it('seeded mutations of valid requests: answers or closed connections, never a crash', async () => {
    const rng = new Prng(FUZZ_SEED);
    const topic = uniqueTopic('fuzz');
    await createTopic(topic);
    const templates = (c: RawKafka): Buffer[] => [
      c.frame(18, 2, () => {}),
      c.frame(3, 8, (w) => w.int32(1).string(topic).bool(true).bool(false).bool(false)),
      c.frame(0, 7, produceBody(topic, encodeBatch([{ offset: 0, timestamp: 1, key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: null }] }]))),
      c.frame(1, 11, (w) => w.int32(-1).int32(10).int32(1).int32(1 << 20).int8(0).int32(0).int32(-1).int32(1).string(topic).int32(1).int32(0).int32(-1).int64(0).int64(-1).int32(1 << 20).int32(0).string('')),
      c.frame(11, 5, (w) => w.string('fuzz-group').int32(10_000).int32(10_000).string('').nullableString(null).string('consumer').int32(1).string('range').bytes(Buffer.from([0, 1, 2]))),
      c.frame(8, 7, (w) => w.string('fuzz-group').int32(-1).string('').nullableString(null).int32(1).string(topic).int32(1).int32(0).int64(1).int32(-1).nullableString(null)),
      c.frame(19, 4, (w) => w.int32(1).string(uniqueTopic('fz')).int32(1).int16(1).int32(0).int32(0).int32(1000).bool(true)),
    ];
    for (let round = 0; round < 20; round++) {
      const conns = await Promise.all(Array.from({ length: 10 }, () => RawKafka.open(b.kafkaPort)));
      for (const c of conns) {
        const t = rng.pick(templates(c));
        const f = Buffer.from(t);
        const kind = rng.int(3);
        if (kind === 0) for (let i = 0; i < 1 + rng.int(4); i++) f[4 + rng.int(f.length - 4)] = rng.int(256);
        const sent = kind === 1 ? f.subarray(0, 4 + rng.int(f.length - 4)) : f;
        if (kind === 1) sent.writeInt32BE(sent.length - 4, 0);
        c.send(sent);
      }
      await Promise.all(conns.map((c) => c.next(500)));
      for (const c of conns) c.close();
    }
    await stillServes();
  }, 60_000);
});
