/**
 * /metrics shows a Kafka consumer group's position and lag per partition stream (the group's
 * committed offsets are the streams' stored offsets): warren_stream_consumer_offset and
 * warren_stream_consumer_lag, labelled with the stream and the group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker({}, undefined, { management: { port: 0, host: '127.0.0.1' } });
});
afterAll(() => b?.stop());

describe('Kafka groups in /metrics', () => {
  it('offset and lag of a group that read part of a topic', async () => {
    const topic = uniqueTopic('lag');
    const group = uniqueTopic('lag-group');
    const kafka = b.client();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_v, i) => ({ value: `m${i}` })) });
    const admin = kafka.admin();
    await admin.connect();
    // the group has processed 4 of 10 records
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '4' }] });
    await admin.disconnect();
    await producer.disconnect();
    const { port } = b.broker.address('management');
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })).text();
    const line = (name: string) => text.split('\n').find((l) => l.startsWith(name) && l.includes(`queue="${topic}-0"`) && l.includes(`consumer="${group}"`));
    expect(line('warren_stream_consumer_offset')).toMatch(/ 3$/);
    expect(line('warren_stream_consumer_lag')).toMatch(/ 6$/);
  }, 30_000);
});
