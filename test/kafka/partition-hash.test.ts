/**
 * The x-partition-hash exchange: murmur2 as Kafka computes it, and AMQP publishes through a
 * topic's exchange landing on the partition kafkajs' default partitioner picks for the same key.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { murmur2 } from '../../src/util/murmur2.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker();
});
afterAll(() => b?.stop());

describe('x-partition-hash', () => {
  it('murmur2 matches the values of Kafka UtilsTest', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it("an AMQP publish to the topic's exchange lands where kafkajs puts the same key", async () => {
    const topic = uniqueTopic('hash');
    await b.createTopic(topic, 5);
    const keys = Array.from({ length: 40 }, (_v, i) => `key-${i}`);
    const producer = b.client().producer();
    await producer.connect();
    const kafkaPartition = new Map<string, number>();
    for (const key of keys) {
      const [res] = await producer.send({ topic, messages: [{ key, value: 'kafka' }] });
      kafkaPartition.set(key, res!.partition);
    }
    await producer.disconnect();
    expect(new Set(kafkaPartition.values()).size).toBeGreaterThan(1);
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createConfirmChannel();
    for (const key of keys) ch.publish(topic, key, Buffer.from('amqp'));
    await ch.waitForConfirms();
    await conn.close();
    const consumer = b.client().consumer({ groupId: uniqueTopic('hash-g'), maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; value: string; partition: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message, partition }) => {
        seen.push({ key: message.key!.toString(), value: message.value!.toString(), partition });
        if (seen.length === 80) resolve();
      } }).catch(reject);
    });
    await consumer.disconnect();
    for (const s of seen) expect(s.partition).toBe(kafkaPartition.get(s.key));
    expect(seen.filter((s) => s.value === 'amqp')).toHaveLength(40);
  }, 60_000);
});
