/**
 * librdkafka (Debian's, through kcat) against the Kafka listener: ApiVersions v3, Metadata,
 * produce with acks=all, consume from the beginning, a balanced consumer group (-G) and
 * committed offsets, reading what kafkajs and AMQP wrote.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kcat, kcatAvailable } from './kcat-run.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

const haveKcat = kcatAvailable('test/kafka/kcat.test.ts');

let b: KafkaTestBroker;
beforeAll(async () => {
  if (haveKcat) b = await startKafkaBroker();
});
afterAll(() => b?.stop());

describe.skipIf(!haveKcat)('kcat (librdkafka)', () => {
  const broker = () => `127.0.0.1:${b.kafkaPort}`;

  it('lists metadata, produces keyed records with acks=all and reads them back with keys, offsets and headers', async () => {
    const topic = uniqueTopic('kcat');
    const produced = await kcat(['-b', broker(), '-t', topic, '-P', '-K', ':', '-X', 'acks=all', '-H', 'src=kcat'], 'a:one\nb:two\na:three\n');
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);
    const meta = await kcat(['-b', broker(), '-L', '-t', topic]);
    expect(meta.stdout).toContain(`topic "${topic}" with 1 partitions`);
    const read = await kcat(['-b', broker(), '-t', topic, '-C', '-o', 'beginning', '-e', '-f', '%k=%s@%o %h\n']);
    expect(read.code).toBe(0);
    expect(read.stdout.trim().split('\n')).toEqual(['a=one@0 src=kcat', 'b=two@1 src=kcat', 'a=three@2 src=kcat']);
    const tail = await kcat(['-b', broker(), '-t', topic, '-C', '-o', '-1', '-e', '-f', '%s\n']);
    expect(tail.stdout.trim()).toBe('three');
  }, 60_000);

  it('reads what kafkajs and an AMQP publisher wrote to the same stream', async () => {
    const topic = uniqueTopic('kcat-x');
    const producer = b.client().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'from-kafkajs' }] });
    await producer.disconnect();
    const c = await amqp.connect(b.amqpUrl);
    const ch = await c.createConfirmChannel();
    ch.sendToQueue(`${topic}-0`, Buffer.from('from-amqp'), { headers: { 'x-kafka-key': 'amqp-key' } });
    await ch.waitForConfirms();
    await c.close();
    const read = await kcat(['-b', broker(), '-t', topic, '-C', '-o', 'beginning', '-e', '-f', '%k=%s\n']);
    expect(read.stdout.trim().split('\n')).toEqual(['k=from-kafkajs', 'amqp-key=from-amqp']);
  }, 60_000);

  it('a balanced consumer group (-G) commits its offsets and resumes after them', async () => {
    const topic = uniqueTopic('kcat-g');
    const group = uniqueTopic('kcat-group');
    await kcat(['-b', broker(), '-t', topic, '-P'], 'r1\nr2\nr3\n');
    const first = await kcat(['-b', broker(), '-G', group, '-X', 'auto.offset.reset=earliest', '-e', '-f', '%s\n', topic], '', 30_000);
    expect(first.stdout.trim().split('\n')).toEqual(['r1', 'r2', 'r3']);
    await kcat(['-b', broker(), '-t', topic, '-P'], 'r4\n');
    const second = await kcat(['-b', broker(), '-G', group, '-X', 'auto.offset.reset=earliest', '-e', '-f', '%s\n', topic], '', 30_000);
    expect(second.stdout.trim().split('\n')).toEqual(['r4']);
  }, 90_000);
});
