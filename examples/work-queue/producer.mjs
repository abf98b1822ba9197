import amqp from 'amqplib';
import { declareTopology, QUEUE } from './topology.mjs';

/** Publish `count` jobs with publisher confirms; returns their ids. */
export async function produce(url, count, { retryDelayMs } = {}) {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await declareTopology(ch, { retryDelayMs });
    const ids = [];
    for (let i = 0; i < count; i++) {
      const id = `job-${i}`;
      ids.push(id);
      ch.sendToQueue(QUEUE, Buffer.from(JSON.stringify({ id, n: i })), { persistent: true, messageId: id });
    }
    await ch.waitForConfirms();
    return ids;
  } finally {
    await conn.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const ids = await produce(url, Number(process.argv[2] ?? 10));
  console.log(`published ${ids.length} jobs`);
}
