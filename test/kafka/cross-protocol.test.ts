/**
 * Kafka ↔ AMQP on the same streams: a kafkajs record read by an AMQP stream consumer (key,
 * headers, timestamp as README "Kafka clients" maps them), an AMQP publish fetched by kafkajs,
 * a compacted topic (cleanup.policy=compact) seen compacted by a Kafka consumer, and stored
 * offsets shared between a Kafka group and an AMQP named consumer.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamQueue } from '../../src/core/queues/stream/stream-queue.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker();
});
afterAll(() => b?.stop());

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consumeAll(topic: string, n: number, groupId = uniqueTopic('x')): Promise<{ key: string | null; value: string | null; offset: string; headers: Record<string, string> }[]> {
  const consumer = b.client().consumer({ groupId, maxWaitTimeInMs: 500 }); // disconnect waits out a fetch in flight
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: { key: string | null; value: string | null; offset: string; headers: Record<string, string> }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, offset: message.offset, headers });
    },
  });
  await until(() => out.length >= n);
  await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();
  return out;
}

describe('Kafka and AMQP on the same streams', () => {
  it('a Kafka record is an AMQP stream message: body, x-kafka-key, headers, timestamp, offset', async () => {
    const topic = uniqueTopic('k2a');
    const producer = b.client().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'user-1', value: 'hello', headers: { trace: 'abc' }, timestamp: '1700000000123' }] });
    await producer.disconnect();
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createChannel();
    await ch.prefetch(10);
    const got = await new Promise<amqp.ConsumeMessage>((resolve) => {
      void ch.consume(`${topic}-0`, (m) => m && resolve(m), { arguments: { 'x-stream-offset': 'first' } });
    });
    await conn.close();
    expect(got.content.toString()).toBe('hello');
    const h = got.properties.headers!;
    expect(Buffer.from(h['x-kafka-key']).toString()).toBe('user-1');
    expect(Buffer.from(h['trace']).toString()).toBe('abc');
    expect(h['timestamp_in_ms']).toBe(1700000000123);
    expect(got.properties.timestamp).toBe(1700000000);
    expect(h['x-stream-offset']).toBe(0);
  }, 60_000);

  it('an AMQP publish to a partition stream is fetched by kafkajs, key and headers mapped', async () => {
    const topic = uniqueTopic('a2k');
    await b.createTopic(topic, 2);
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(`${topic}-1`, Buffer.from('from amqp'), { headers: { 'x-kafka-key': 'k1', origin: 'amqp', n: 5 } });
    await ch.waitForConfirms();
    await conn.close();
    const [rec] = await consumeAll(topic, 1);
    expect(rec).toMatchObject({ key: 'k1', value: 'from amqp', offset: '0', headers: { origin: 'amqp', n: '5' } });
  }, 60_000);

  it('a compacted topic: a Kafka consumer sees the newest value per key after compaction', async () => {
    const topic = uniqueTopic('compact');
    const admin = b.client().admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '2000' }] }],
    });
    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
    expect(configs.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy')!.configValue).toBe('compact');
    await admin.disconnect();
    const producer = b.client().producer();
    await producer.connect();
    for (let round = 0; round < 8; round++) {
      await producer.send({ topic, messages: Array.from({ length: 5 }, (_v, k) => ({ key: `key${k}`, value: `v${round}-${'x'.repeat(100)}` })) });
    }
    await producer.disconnect();
    const q = b.broker.core.vhosts.get('/')!.queues.get(`${topic}-0`) as StreamQueue;
    q.log.rollover();
    const internals = b.broker.core.vhosts.get("/")!.store as unknown as { streams: { compactNow(id: number): Promise<void> } };
    await internals.streams.compactNow(q.streamId);
    const records = await consumeAll(topic, 5);
    expect(records.length).toBeLessThan(40);
    const newest = new Map<string, string>();
    for (const r of records) newest.set(r.key!, r.value!.slice(0, 2));
    expect([...newest.values()]).toEqual(['v7', 'v7', 'v7', 'v7', 'v7']);
    // offsets are kept: gaps, never renumbering
    expect(Number(records.at(-1)!.offset)).toBe(39);
  }, 60_000);

  it('a Kafka group and an AMQP named consumer of the same name share the stored offset', async () => {
    const topic = uniqueTopic('shared');
    const group = uniqueTopic('shared-group');
    const producer = b.client().producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 4 }, (_v, i) => ({ value: `m${i}` })) });
    await producer.disconnect();
    await consumeAll(topic, 4, group);
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(`${topic}-0`, Buffer.from('m4'));
    await ch.waitForConfirms();
    await ch.prefetch(10);
    const got = await new Promise<string>((resolve) => {
      void ch.consume(`${topic}-0`, (m) => m && resolve(m.content.toString()), { arguments: { 'x-stream-offset': 'first', 'x-stream-consumer-name': group } });
    });
    await conn.close();
    expect(got).toBe('m4');
  }, 60_000);
});
