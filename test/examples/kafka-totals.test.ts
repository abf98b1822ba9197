import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaTestBroker } from '../kafka/helpers.js';
// @ts-expect-error plain JS example modules, no type declarations
import { produceOrders } from '../../examples/kafka-totals/orders.mjs';
// @ts-expect-error plain JS example modules
import { startAggregator } from '../../examples/kafka-totals/aggregator.mjs';
// @ts-expect-error plain JS example modules
import { readTotals } from '../../examples/kafka-totals/read-totals.mjs';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker();
});
afterAll(() => b?.stop());

async function until(cond: () => boolean | Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('examples/kafka-totals', () => {
  it('a kafkajs group aggregates orders into a compacted topic, read back over AMQP', async () => {
    const customers = ['ada', 'bob', 'cy', 'dee', 'eve'];
    const orders = Array.from({ length: 60 }, (_v, i) => ({ id: i, customer: customers[i % 5]!, amount: 1 + (i % 7) }));
    const expected = new Map<string, number>();
    for (const o of orders) expected.set(o.customer, (expected.get(o.customer) ?? 0) + o.amount);
    // two members share the partitions (a member leaving mid-stream: kafka/groups.test.ts; the example's README says why not here)
    const stopA = await startAggregator(b.brokers);
    const stopB = await startAggregator(b.brokers);
    await produceOrders(b.brokers, orders.slice(0, 30));
    await produceOrders(b.brokers, orders.slice(30));
    const same = async () => {
      const got = await readTotals(b.amqpUrl);
      return customers.every((c) => got.get(c) === expected.get(c));
    };
    await until(same).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify([...(await readTotals(b.amqpUrl))])} expected ${JSON.stringify([...expected])}`);
    });
    await stopA();
    await stopB();
    // the totals stream is compacted by key: the AMQP view holds x-kafka-key on every message
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createChannel();
    const q = await ch.checkQueue('customer-totals-0');
    expect(q.messageCount).toBeGreaterThanOrEqual(5);
    await conn.close();
  }, 150_000);
});
