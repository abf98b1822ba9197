import amqp from 'amqplib';
import { attemptsSoFar, DEAD_QUEUE, declareTopology, MAX_ATTEMPTS, QUEUE } from './topology.mjs';

/**
 * Consume jobs, one at a time per worker (prefetch 1). `handle(job)` may throw: the job is
 * rejected (→ retry queue → back after the TTL) until MAX_ATTEMPTS, then parked in the
 * dead-letter queue. Returns a stop function.
 */
export async function startWorker(url, handle, { retryDelayMs, onDone = () => {}, onDead = () => {} } = {}) {
  const conn = await amqp.connect(url);
  // a confirm channel: a job is acked only once its dead-letter copy is safely stored
  const ch = await conn.createConfirmChannel();
  await declareTopology(ch, { retryDelayMs });
  await ch.prefetch(1);
  await ch.consume(QUEUE, async (msg) => {
    if (!msg) return; // consumer cancelled by the broker
    const job = JSON.parse(msg.content.toString());
    try {
      await handle(job, attemptsSoFar(msg) + 1);
      ch.ack(msg);
      onDone(job);
    } catch (err) {
      if (attemptsSoFar(msg) + 1 >= MAX_ATTEMPTS) {
        await new Promise((resolve, reject) =>
          ch.sendToQueue(
            DEAD_QUEUE,
            msg.content,
            {
              persistent: true,
              messageId: msg.properties.messageId,
              headers: { ...msg.properties.headers, 'x-last-error': String(err?.message ?? err) },
            },
            (e) => (e ? reject(e) : resolve()),
          ),
        );
        ch.ack(msg);
        onDead(job);
      } else {
        ch.reject(msg, false); // dead-letters to the retry queue
      }
    }
  });
  return async () => conn.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  await startWorker(
    url,
    async (job, attempt) => {
      if (Math.random() < 0.3) throw new Error(`flaky failure on attempt ${attempt}`);
      console.log(`done ${job.id} (attempt ${attempt})`);
    },
    { onDead: (job) => console.log(`dead-lettered ${job.id}`) },
  );
  console.log('worker waiting for jobs; Ctrl-C to stop');
}
