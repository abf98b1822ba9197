/**
 * Topic administration with kafkajs' admin client: AlterConfigs onto the partition streams'
 * arguments read back with DescribeConfigs (and after a restart), its errors (unknown topic,
 * unknown setting, bad value); ListOffsets earliest, latest and by timestamp;
 * CreatePartitions; DeleteTopics. And a transactional producer: a prompt, final error
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), not a hang or a long retry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
let admin: Admin;
beforeAll(async () => {
  b = await startKafkaBroker();
  admin = b.client().admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  await b.stop();
});

async function configsOf(topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
  return Object.fromEntries(res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
}

describe('AlterConfigs', () => {
  it('changes every partition stream, reads back, holds across a restart; settings not given go back to defaults', async () => {
    const topic = uniqueTopic('alter');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
    expect((await configsOf(topic))['retention.ms']).toBe('3600000');
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: topic,
          configEntries: [
            { name: 'retention.bytes', value: '1000000' },
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '500000' },
          ],
        },
      ],
    });
    const expected = { 'retention.ms': '-1', 'retention.bytes': '1000000', 'cleanup.policy': 'compact', 'segment.bytes': '500000' };
    expect(await configsOf(topic)).toEqual(expected);
    for (const p of [0, 1]) {
      const args = b.broker.core.stream('/', `${topic}-${p}`)!.arguments;
      expect(args['x-max-length-bytes']).toBe(1000000);
      expect(args['x-stream-compaction']).toBe('key');
      expect(args['x-max-age']).toBeUndefined();
    }
    await admin.disconnect();
    await b.restart();
    admin = b.client().admin();
    await admin.connect();
    expect(await configsOf(topic)).toEqual(expected);
    // validate_only changes nothing
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    expect((await configsOf(topic))['retention.ms']).toBe('-1');
  }, 60_000);

  it('an unknown topic, an unknown setting and a bad value are refused and change nothing', async () => {
    const topic = uniqueTopic('alter-bad');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.bytes', value: '5000' }] }] });
    const alter = (name: string, entries: { name: string; value: string }[]) => admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name, configEntries: entries }] });
    await expect(alter(uniqueTopic('missing'), [{ name: 'retention.ms', value: '1000' }])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(alter(topic, [{ name: 'max.message.bytes', value: '1000' }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter(topic, [{ name: 'retention.ms', value: 'soon' }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter(topic, [{ name: 'cleanup.policy', value: 'shred' }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    expect((await configsOf(topic))['retention.bytes']).toBe('5000');
  }, 60_000);
});

describe('offsets, partitions, deletion', () => {
  it('ListOffsets: earliest, latest and by timestamp', async () => {
    const topic = uniqueTopic('offsets');
    const producer = b.client().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
    await new Promise((r) => setTimeout(r, 50));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await producer.send({ topic, messages: [{ value: 'c' }] });
    await producer.disconnect();
    const [latest] = await admin.fetchTopicOffsets(topic);
    expect(latest).toMatchObject({ partition: 0, low: '0', high: '3' });
    const [byTime] = await admin.fetchTopicOffsetsByTimestamp(topic, between);
    expect(byTime).toMatchObject({ partition: 0, offset: '2' });
    const [future] = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 60_000);
    expect(future!.offset).toBe('3');
  }, 60_000);

  it('CreatePartitions adds partition streams that take records; DeleteTopics removes the streams', async () => {
    const topic = uniqueTopic('grow');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    const producer = b.client().producer();
    await producer.connect();
    const [res] = await producer.send({ topic, messages: [{ value: 'on two', partition: 2 }] });
    expect(res).toMatchObject({ partition: 2, errorCode: 0, baseOffset: '0' });
    await producer.disconnect();
    expect(b.broker.core.stream('/', `${topic}-2`)).toBeDefined();
    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
    expect(b.broker.core.stream('/', `${topic}-0`)).toBeUndefined();
    expect(b.broker.core.stream('/', `${topic}-2`)).toBeUndefined();
  }, 60_000);
});

describe('transactions (not implemented)', () => {
  it('a transactional producer is refused at once (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), not retried or hung', async () => {
    // kafkajs' default retry settings (a retriable answer would be retried for seconds)
    const producer = b.client({ retry: { retries: 5, initialRetryTime: 300 } }).producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const started = Date.now();
    // kafkajs gives up finding a transaction coordinator at the first, final answer
    const error = await producer.transaction().then(
      () => null,
      (e: Error & { retriable?: boolean }) => e,
    );
    expect(error).toMatchObject({ name: 'KafkaJSGroupCoordinatorNotFound', retriable: false });
    expect(Date.now() - started).toBeLessThan(3000);
    await producer.disconnect();
  }, 30_000);
});
