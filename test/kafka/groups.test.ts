/**
 * A kafkajs consumer group of three over a six-partition topic: members join and leave
 * while records flow, every record is processed, the group rebalances (ListGroups,
 * DescribeGroups show it), and committed offsets hold across a broker restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, Kafka } from 'kafkajs';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker();
});
afterAll(() => b?.stop());

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function member(kafka: Kafka, groupId: string, topic: string, seen: Map<string, number>, assigned: { n: number }): { consumer: Consumer; started: Promise<void> } {
  // maxWaitTimeInMs: kafkajs heartbeats between fetches, so an idle member's long poll (5 s by
  // default) is how late it hears of a rebalance; 500 ms keeps each rebalance short
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 6000, maxWaitTimeInMs: 500 });
  consumer.on(consumer.events.GROUP_JOIN, () => assigned.n++);
  const started = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value!.toString();
        seen.set(v, (seen.get(v) ?? 0) + 1);
      },
    });
  })();
  return { consumer, started };
}

describe('consumer groups', () => {
  it('three members come and go; every record is processed; the group is listed and described', async () => {
    const topic = uniqueTopic('grp');
    const groupId = uniqueTopic('g3');
    const kafka = b.client();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();
    const seen = new Map<string, number>();
    const joins = { n: 0 };
    let sent = 0;
    const send = async (n: number) => {
      const messages = Array.from({ length: n }, () => ({ key: `k${sent}`, value: `m${sent++}` }));
      await producer.send({ topic, acks: -1, messages });
    };
    await send(60);
    const a = member(kafka, groupId, topic, seen, joins);
    await a.started;
    await until(() => seen.size >= 30);
    const m2 = member(kafka, groupId, topic, seen, joins);
    const m3 = member(kafka, groupId, topic, seen, joins);
    await Promise.all([m2.started, m3.started]);
    await send(60);
    await until(() => seen.size === 120);
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]!.state).toBe('Stable');
    expect(described.groups[0]!.members).toHaveLength(3);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
    // a member leaves: the others take over its partitions
    await m2.consumer.disconnect();
    await send(60);
    await until(() => seen.size === 180);
    await a.consumer.disconnect();
    await send(30);
    await until(() => seen.size === 210);
    await m3.consumer.disconnect();
    for (let i = 0; i < 210; i++) expect(seen.has(`m${i}`)).toBe(true);
    expect(joins.n).toBeGreaterThanOrEqual(5);
    // committed offsets: the high watermark of every partition
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const high = await admin.fetchTopicOffsets(topic);
    for (const p of committed[0]!.partitions) expect(p.offset).toBe(high.find((h) => h.partition === p.partition)!.high);
    await producer.disconnect();
    await admin.disconnect();
  }, 120_000);

  it('committed offsets hold across a restart: a new member resumes after them', async () => {
    const topic = uniqueTopic('resume');
    const groupId = uniqueTopic('gr');
    let kafka = b.client();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_v, i) => ({ value: `a${i}` })) });
    await producer.disconnect();
    const seen = new Map<string, number>();
    const first = member(kafka, groupId, topic, seen, { n: 0 });
    await first.started;
    await until(() => seen.size === 10);
    await first.consumer.disconnect();
    await b.restart();
    kafka = b.client();
    const p2 = kafka.producer();
    await p2.connect();
    await p2.send({ topic, messages: Array.from({ length: 5 }, (_v, i) => ({ value: `b${i}` })) });
    await p2.disconnect();
    const after = new Map<string, number>();
    const second = member(kafka, groupId, topic, after, { n: 0 });
    await second.started;
    await until(() => after.size === 5);
    await new Promise((r) => setTimeout(r, 300));
    await second.consumer.disconnect();
    expect([...after.keys()].sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
  }, 120_000);
});
