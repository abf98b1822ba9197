import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { RPC_QUEUE } from './server.mjs';

const REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * An RPC client over direct reply-to: it consumes the pseudo-queue in no-ack mode, sends
 * requests with `replyTo: amq.rabbitmq.reply-to` and a correlation id, and matches replies.
 * Requests carry `x-reply-on-failure` (Warren): an unroutable or expired request is answered
 * at once with header `x-failure`, so `call` rejects without waiting for its timeout.
 */
export async function createClient(url, { timeoutMs = 5000 } = {}) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  const pending = new Map();
  await ch.consume(
    REPLY_TO,
    (msg) => {
      const waiter = msg && pending.get(msg.properties.correlationId);
      if (!waiter) return;
      pending.delete(msg.properties.correlationId);
      clearTimeout(waiter.timer);
      const failure = msg.properties.headers?.['x-failure'];
      if (failure) waiter.reject(new Error(`request failed: ${failure}`));
      else waiter.resolve(msg.content.toString());
    },
    { noAck: true },
  );
  return {
    call(queue, body) {
      const correlationId = randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(correlationId);
          reject(new Error('request timed out'));
        }, timeoutMs);
        pending.set(correlationId, { resolve, reject, timer });
        ch.publish('', queue, Buffer.from(String(body)), {
          replyTo: REPLY_TO,
          correlationId,
          expiration: String(timeoutMs),
          headers: { 'x-reply-on-failure': true },
        });
      });
    },
    close: () => conn.close(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const client = await createClient(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  const n = Number(process.argv[2] ?? 20);
  console.log(`fib(${n}) = ${await client.call(RPC_QUEUE, n)}`);
  await client.close();
}
