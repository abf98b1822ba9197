/**
 * The management API's Kafka views (GET /api/kafka/topics and /api/kafka/groups, read from the
 * view the Kafka plugin offers through PluginContext.kafka()), driven by kafkajs: a topic of 3
 * partitions, a group of one member consuming it, its committed offsets and lag before and
 * after more records arrive; and empty lists when the Kafka plugin is not running.
 */
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManaged } from '../plugins/management/helpers.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
let consumer: Consumer | undefined;
beforeAll(async () => {
  b = await startKafkaBroker({}, undefined, { management: { port: 0, host: '127.0.0.1' } });
});
afterAll(async () => {
  await consumer?.disconnect().catch(() => undefined);
  await b?.stop();
});

async function api<T = any>(path: string): Promise<T> {
  const { port } = b.broker.address('management');
  const res = await fetch(`http://127.0.0.1:${port}/api${path}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** Polls `f` until it returns a value (the group settles and commits on its own schedule). */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('management API: Kafka topics and groups', () => {
  it('shows a 3-partition topic, its group, the member and lag 0 after consumption, lag > 0 after more produces', async () => {
    const topic = uniqueTopic('mgmt');
    const group = uniqueTopic('mgmt-group');
    const kafka = b.client({ clientId: 'mgmt-test-client' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 9 }, (_v, i) => ({ value: `m${i}`, partition: i % 3 })) });

    const t = (await api<any[]>('/kafka/topics')).find((x) => x.name === topic);
    expect(t).toEqual({
      name: topic,
      vhost: '/',
      partitions: [0, 1, 2].map((p) => ({ partition: p, queue: `${topic}-${p}`, messages: 3, first_offset: 0, last_offset: 2 })),
    });

    let received = 0;
    consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        received++;
      },
    });
    const settled = await until('the group to commit every partition', async () => {
      const g = (await api<any[]>('/kafka/groups')).find((x) => x.group_id === group);
      return received === 9 && g?.state === 'Stable' && g.offsets.length === 3 && g.offsets.every((o: any) => o.committed_offset === 3) ? g : undefined;
    });
    expect(settled).toMatchObject({ vhost: '/', protocol_type: 'consumer', protocol: 'RoundRobinAssigner', lag: 0 });
    expect(settled.generation).toBeGreaterThan(0);
    expect(settled.members).toHaveLength(1);
    const member = settled.members[0];
    expect(member.member_id).toBe(settled.leader);
    expect(member.client_id).toBe('mgmt-test-client');
    expect(member.client_host).toMatch(/127\.0\.0\.1/);
    expect(member.assignments).toEqual([{ topic, partitions: [0, 1, 2] }]);
    expect(settled.offsets).toEqual([0, 1, 2].map((p) => ({ topic, partition: p, queue: `${topic}-${p}`, committed_offset: 3, lag: 0 })));

    // the member stays, fetching nothing: four more records on partition 1 are its lag
    consumer.pause([{ topic }]);
    await producer.send({ topic, messages: Array.from({ length: 4 }, (_v, i) => ({ value: `late${i}`, partition: 1 })) });
    await producer.disconnect();
    const lagging = (await api<any[]>('/kafka/groups')).find((x) => x.group_id === group);
    expect(lagging.members).toHaveLength(1);
    expect(lagging.lag).toBe(4);
    expect(lagging.offsets.find((o: any) => o.partition === 1)).toEqual({ topic, partition: 1, queue: `${topic}-1`, committed_offset: 3, lag: 4 });
    expect((await api<any[]>('/kafka/topics')).find((x) => x.name === topic).partitions[1]).toMatchObject({ messages: 7, last_offset: 6 });
  }, 40_000);
});

describe('management API without the Kafka plugin', () => {
  it('answers empty lists, not 404', async () => {
    const m = await startManaged();
    try {
      const topics = await m.api('GET', '/api/kafka/topics');
      const groups = await m.api('GET', '/api/kafka/groups');
      expect([topics.status, topics.body]).toEqual([200, []]);
      expect([groups.status, groups.body]).toEqual([200, []]);
      expect(m.broker.listeners().some((l) => l.name === 'kafka')).toBe(false);
    } finally {
      await m.stop();
    }
  });
});
