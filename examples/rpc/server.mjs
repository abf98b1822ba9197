import amqp from 'amqplib';

export const RPC_QUEUE = 'rpc.fib';

const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));

/** Serve `fib(n)` requests: reply to `replyTo` with the request's correlation id. Returns a stop function. */
export async function startServer(url) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertQueue(RPC_QUEUE, { durable: false });
  await ch.prefetch(32);
  await ch.consume(RPC_QUEUE, (msg) => {
    if (!msg) return;
    const n = Number(msg.content.toString());
    ch.sendToQueue(msg.properties.replyTo, Buffer.from(String(fib(Math.min(n, 30)))), {
      correlationId: msg.properties.correlationId,
    });
    ch.ack(msg);
  });
  return async () => conn.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await startServer(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  console.log(`serving ${RPC_QUEUE}; Ctrl-C to stop`);
}
