/**
 * kafkajs against Warren: topics as streams, produce with acks -1/1/0, fetch across
 * partitions, ListOffsets, a consumer group reading every record once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker();
});
afterAll(() => b?.stop());

describe('kafkajs producer and consumer', () => {
  it('creates a topic with partitions, produces and reads back every record in a group', async () => {
    const topic = uniqueTopic('pc');
    const kafka = b.client();
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_v, i) => ({ key: `k${i % 7}`, value: `v${i}`, headers: { h: `x${i}` } }));
    const res = await producer.send({ topic, acks: -1, messages });
    expect(res.map((r) => r.errorCode)).toEqual(res.map(() => 0));
    await producer.disconnect();

    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(30);

    const consumer = kafka.consumer({ groupId: uniqueTopic('g'), maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; value: string; h: string; partition: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            seen.push({ key: message.key!.toString(), value: message.value!.toString(), h: message.headers!.h!.toString(), partition });
            if (seen.length === 30) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await admin.disconnect();
    expect(seen.map((s) => s.value).sort()).toEqual(messages.map((m) => m.value).sort());
    for (const s of seen) expect(s.h).toBe(`x${Number(s.value.slice(1))}`);
    // kafkajs' default partitioner is murmur2 of the key: one key, one partition
    const byKey = new Map<string, Set<number>>();
    for (const s of seen) byKey.set(s.key, (byKey.get(s.key) ?? new Set()).add(s.partition));
    for (const parts of byKey.values()) expect(parts.size).toBe(1);
  }, 60_000);
});
