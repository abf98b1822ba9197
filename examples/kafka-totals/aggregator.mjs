/**
 * A Kafka Streams-like aggregation with plain kafkajs: a consumer group reads `orders`, keeps a
 * running total per customer, and writes each new total to the compacted topic
 * `customer-totals` (key = customer, value `{ total, last }`: the total and the id of the last
 * order counted, so an order replayed after a crash or a rebalance is not counted twice). Offsets are committed only after the totals written
 * are acknowledged (acks=all: after Warren's fdatasync), so a crash replays, never loses.
 * After every rebalance, before its first batch, a member restores its state from the
 * compacted topic (its newest value per key) — the changelog pattern of Kafka Streams' state
 * stores: a partition taken over from another member continues from that member's last
 * written totals. Run several: the group shares the partitions.
 * `node examples/kafka-totals/aggregator.mjs`
 */
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, GROUP, ORDERS, TOTALS } from './topology.mjs';

/** Newest total per customer in the compacted topic, read up to its current end. */
async function restore(kafka) {
  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(TOTALS);
  await admin.disconnect();
  const totals = new Map();
  if (Number(end.high) === 0) return totals;
  const consumer = kafka.consumer({ groupId: `${GROUP}-restore-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOTALS, fromBeginning: true });
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.value !== null) totals.set(message.key.toString(), JSON.parse(message.value.toString()));
          if (Number(message.offset) + 1 >= Number(end.high)) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return totals;
}

/** Start one member of the aggregator group; returns a stop function. `onTotal(customer, total)` is told each update. */
export async function startAggregator(brokers, { onTotal = () => {} } = {}) {
  const kafka = new Kafka({ clientId: 'aggregator', brokers, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka);
  let totals = new Map();
  let generation = 0;
  let restoredFor = -1;
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  // short timeouts: a member that stopped is noticed, and a rebalance completes, within seconds
  const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1000 });
  consumer.on(consumer.events.GROUP_JOIN, () => generation++);
  await consumer.connect();
  await consumer.subscribe({ topic: ORDERS, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (restoredFor !== generation) {
        restoredFor = generation;
        totals = await restore(kafka);
      }
      const changed = new Map();
      for (const message of batch.messages) {
        const order = JSON.parse(message.value.toString());
        resolveOffset(message.offset);
        const state = totals.get(order.customer) ?? { total: 0, last: -1 };
        // replayed after a crash or a rebalance (at-least-once): a customer's orders come in id order, in one partition
        if (order.id <= state.last) continue;
        const next = { total: state.total + order.amount, last: order.id };
        totals.set(order.customer, next);
        changed.set(order.customer, next);
      }
      if (changed.size === 0) return;
      await producer.send({ topic: TOTALS, acks: -1, messages: [...changed].map(([k, v]) => ({ key: k, value: JSON.stringify(v) })) });
      const last = batch.messages[batch.messages.length - 1];
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
      for (const [k, v] of changed) onTotal(k, v.total);
      await heartbeat();
    },
  });
  return async () => {
    await consumer.disconnect();
    await producer.disconnect();
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stop = await startAggregator((process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), {
    onTotal: (customer, total) => console.log(`${customer}: ${total}`),
  });
  process.on('SIGINT', () => stop().then(() => process.exit(0)));
}
