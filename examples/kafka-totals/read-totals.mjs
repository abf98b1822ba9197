/**
 * Reads the totals back over AMQP: the compacted topic's partition is the stream
 * `customer-totals-0`; each message carries the Kafka key in the header `x-kafka-key`, and
 * the newest message per key is the current total (`{ total, last }`). `node examples/kafka-totals/read-totals.mjs`
 */
import amqp from 'amqplib';
import { TOTALS } from './topology.mjs';

/** Current total per customer, read from the stream's first offset up to its end. */
export async function readTotals(url) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  const { messageCount } = await ch.checkQueue(`${TOTALS}-0`);
  const totals = new Map();
  if (messageCount > 0) {
    await ch.prefetch(500);
    await new Promise((resolve) => {
      let seen = 0;
      void ch.consume(
        `${TOTALS}-0`,
        (m) => {
          if (m === null) return;
          const key = Buffer.from(m.properties.headers['x-kafka-key']).toString();
          totals.set(key, JSON.parse(m.content.toString()).total);
          ch.ack(m);
          if (++seen >= messageCount) resolve();
        },
        { arguments: { 'x-stream-offset': 'first' } },
      );
    });
  }
  await conn.close();
  return totals;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const totals = await readTotals(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  for (const [customer, total] of [...totals].sort()) console.log(`${customer}\t${total}`);
}
