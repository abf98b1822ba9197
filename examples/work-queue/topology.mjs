/**
 * The work-queue topology: `jobs` (the work queue) dead-letters rejected jobs to
 * `jobs.retry`, whose message TTL is the back-off; expired retries dead-letter back to
 * `jobs`. After MAX_ATTEMPTS the worker publishes the job to `jobs.dead` instead.
 * This is the classic amqplib back-off pattern (RabbitMQ docs: "Dead Letter Exchanges").
 */
export const QUEUE = 'jobs';
export const RETRY_QUEUE = 'jobs.retry';
export const DEAD_QUEUE = 'jobs.dead';
export const MAX_ATTEMPTS = 3;

/** @param {import('amqplib').Channel} ch */
export async function declareTopology(ch, { retryDelayMs = 1000 } = {}) {
  await ch.assertQueue(QUEUE, {
    durable: true,
    arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': RETRY_QUEUE },
  });
  await ch.assertQueue(RETRY_QUEUE, {
    durable: true,
    arguments: { 'x-message-ttl': retryDelayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': QUEUE },
  });
  await ch.assertQueue(DEAD_QUEUE, { durable: true });
}

/** How many times a job has already failed, from its x-death history. */
export function attemptsSoFar(msg) {
  const deaths = msg.properties.headers?.['x-death'] ?? [];
  const rejected = deaths.find((d) => d.queue === QUEUE && d.reason === 'rejected');
  return rejected ? Number(rejected.count) : 0;
}
