/**
 * Produces order events `{ customer, amount }` keyed by customer (so one customer's orders
 * stay in one partition, in order). `node examples/kafka-totals/orders.mjs 100`
 */
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, ORDERS } from './topology.mjs';

export async function produceOrders(brokers, orders) {
  const kafka = new Kafka({ clientId: 'orders', brokers, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: ORDERS,
    acks: -1,
    messages: orders.map((o) => ({ key: o.customer, value: JSON.stringify(o) })),
  });
  await producer.disconnect();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 20);
  const customers = ['ada', 'bob', 'cy', 'dee'];
  const orders = Array.from({ length: n }, (_v, i) => ({ id: i, customer: customers[i % customers.length], amount: 1 + (i % 9) }));
  await produceOrders((process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), orders);
  console.log(`produced ${n} orders`);
}
