/**
 * Kafka clients on a three-node cluster (three etcd members, three Warren processes): a kafkajs
 * idempotent producer (acks=-1) bootstrapped with every node's Kafka port keeps producing while
 * the leader is killed (kill -9); afterwards a fresh consumer group reads the topic from the
 * beginning through a standby and finds every acknowledged record (lost 0) and none twice (the
 * new leader rebuilt the producers' sequence state from its replicated log, so retries of
 * batches the dead leader had appended are not appended again).
 *
 * How the client finds the leader: a standby forwards the Kafka connection to the leader (as
 * every protocol), the leader's Metadata and FindCoordinator name its own listener, and after
 * the kill kafkajs goes back to its bootstrap list, reaching a live node that forwards to the
 * new leader. A produce is answered only after the stream's commit, which in a cluster waits for
 * every in-sync replica's fdatasync (the replication gate), so an acknowledged record is on the
 * node that takes over. With both followers killed, the in-sync set falls below
 * cluster.min_isr (2): the produce is held, then refused NOT_ENOUGH_REPLICAS_AFTER_APPEND.
 */
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { EtcdCluster, hasEtcd } from '../helpers/etcd-cluster.js';
import { until } from '../helpers/free-port.js';
import { WarrenCluster } from '../helpers/warren-cluster.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOPIC = 'orders';
const PARTITIONS = 2;
const PER_SEND = 5;

describe.skipIf(!hasEtcd('test/cluster/kafka-failover.test.ts'))('Kafka clients across a leader kill', () => {
  let etcd: EtcdCluster;
  let cluster: WarrenCluster;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    cluster = await WarrenCluster.start({ cliPath, etcdEndpoints: etcd.endpoints, leaseTtl: '4s', kafka: true });
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    await etcd?.close();
  }, 30_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(cluster?.outputs());
  });

  const whole = (what: string) => cluster.waitWhole(what);

  /** a kafkajs client whose bootstrap list names the given nodes' Kafka ports */
  const client = (nodes: number[], clientId: string, extra: Partial<KafkaConfig> = {}) =>
    new Kafka({
      clientId,
      brokers: nodes.map((i) => `127.0.0.1:${cluster.nodes[i]!.ports.kafka}`),
      logLevel: logLevel.NOTHING,
      // a failover takes about the lease TTL (4 s here) plus the standby's wait for the new leader
      retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 3000 },
      connectionTimeout: 3000,
      requestTimeout: 15_000,
      ...extra,
    });

  it('an idempotent producer goes on across kill -9 of the leader; every acknowledged record is read back once', async () => {
    await whole('start');
    const leader = (await cluster.leader())!;
    const standbys = cluster.nodes.map((n) => n.index).filter((i) => i !== leader.node.index);

    // the topic is created through a standby: forwarded to the leader like any connection
    const admin = client([standbys[0]!], 'kafka-failover-admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();

    const producer: Producer = client([0, 1, 2], 'kafka-failover-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked = new Set<string>();
    const failedSends: string[] = [];
    let running = true;
    let next = 0;
    const produced = (async () => {
      while (running) {
        const ids = Array.from({ length: PER_SEND }, () => `r${next++}`);
        try {
          await producer.send({ topic: TOPIC, acks: -1, messages: ids.map((id) => ({ key: id, value: id })) });
          for (const id of ids) acked.add(id);
        } catch (e) {
          // kafkajs gave up on this send (retries spent): not acknowledged, so not promised
          failedSends.push(`${ids[0]}: ${(e as Error).message}`);
        }
      }
    })();

    try {
      await until('acknowledged records before the kill', () => acked.size >= 100, 60_000, 50);
      const before = acked.size;
      await cluster.kill(leader.node.index);
      const next = await cluster.waitForLeader(60_000, leader);
      expect(next.node.index).not.toBe(leader.node.index);
      // the producer gets acknowledgements from the new leader
      await until(() => `acknowledgements after the kill (${acked.size}, failed sends: ${failedSends.join('; ')})`, () => acked.size >= before + 100, 90_000, 100);
      cluster.restart(leader.node.index);
    } finally {
      running = false;
      await produced;
      await producer.disconnect();
    }
    expect(acked.size).toBeGreaterThanOrEqual(200);

    // read everything back through a node that is not the new leader
    const newLeader = (await cluster.leader())!;
    const readVia = cluster.nodes.map((n) => n.index).filter((i) => i !== newLeader.node.index && cluster.isRunning(i));
    const consumer = client(readVia, 'kafka-failover-consumer').consumer({ groupId: `after-failover-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen = new Map<string, number>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = message.value!.toString();
        seen.set(id, (seen.get(id) ?? 0) + 1);
      },
    });
    try {
      await until(() => `every acknowledged record read back (${[...acked].filter((id) => !seen.has(id)).length} of ${acked.size} missing)`, () => [...acked].every((id) => seen.has(id)), 90_000, 200);
      await sleep(1000); // anything read twice would have come by now
    } finally {
      await consumer.disconnect();
    }
    const lost = [...acked].filter((id) => !seen.has(id));
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    console.log(`kafka failover: acknowledged=${acked.size} lost=${lost.length} duplicated=${twice.length} failed_sends=${failedSends.length} read=${seen.size}`);
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
  }, 300_000);

  it('with the followers gone the produce is refused NOT_ENOUGH_REPLICAS_AFTER_APPEND, not acknowledged', async () => {
    await whole('before the followers are killed');
    const leader = (await cluster.leader())!;
    const followers = cluster.nodes.map((n) => n.index).filter((i) => i !== leader.node.index);
    // the refusal comes after the ack deadline (3 s) and the gate's wait below min_isr (10 s)
    const producer = client([leader.node.index], 'kafka-min-isr', { retry: { retries: 0 }, requestTimeout: 60_000 }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'warm-up' }] });
      for (const i of followers) await cluster.kill(i);
      const started = Date.now();
      const outcome = await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'alone' }] }).then(
        () => 'acknowledged',
        (e: Error & { type?: string; originalError?: { type?: string }; cause?: { type?: string } }) => `${e.type ?? ''} ${e.originalError?.type ?? ''} ${e.cause?.type ?? ''} ${e.message}`,
      );
      expect(outcome).toMatch(/NOT_ENOUGH_REPLICAS_AFTER_APPEND|fewer in-sync replicas/);
      expect(Date.now() - started).toBeGreaterThan(2000);
    } finally {
      await producer.disconnect();
      for (const i of followers) if (!cluster.isRunning(i)) cluster.restart(i);
    }
  }, 120_000);
});
