/**
 * amqplib RPC pair, as its tutorial writes it: the server consumes QUEUE with prefetch 1 and
 * answers to replyTo with the request's correlationId; the client declares an exclusive
 * callback queue and makes N calls one after the other.
 *
 *   node amqplib-rpc.mjs server URL QUEUE       serve until killed
 *   node amqplib-rpc.mjs client URL QUEUE N     print {"value": mean ms per call, ...}
 *
 * amqplib leaves Nagle's algorithm on unless asked (`noDelay`); NO_DELAY=1 asks, in both.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';

const [role, url, queue, nArg] = process.argv.slice(2);
const conn = await amqp.connect(url, { noDelay: process.env.NO_DELAY === '1' });
const ch = await conn.createChannel();
await ch.assertQueue(queue, { durable: false });
if (role === 'server') {
  await ch.prefetch(1);
  await ch.consume(queue, (msg) => {
    const n = Number(msg.content.toString());
    ch.sendToQueue(msg.properties.replyTo, Buffer.from(String(n + 1)), { correlationId: msg.properties.correlationId });
    ch.ack(msg);
  });
  console.log(JSON.stringify({ ready: true }));
  process.on('SIGTERM', () => void conn.close().finally(() => process.exit(0)));
} else {
  const n = Number(nArg);
  const { queue: callbackQueue } = await ch.assertQueue('', { exclusive: true });
  let pending = null;
  await ch.consume(
    callbackQueue,
    (msg) => {
      if (pending !== null && msg.properties.correlationId === pending.id) pending.resolve(Number(msg.content.toString()));
    },
    { noAck: true },
  );
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const reply = new Promise((resolve) => (pending = { id, resolve }));
    ch.sendToQueue(queue, Buffer.from(String(i)), { correlationId: id, replyTo: callbackQueue });
    if ((await reply) !== i + 1) throw new Error(`wrong reply to call ${i}`);
  }
  console.log(JSON.stringify({ value: (performance.now() - t0) / n, unit: 'ms per call', n }));
  await conn.close();
}
