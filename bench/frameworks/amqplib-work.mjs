/**
 * amqplib work queue, as its tutorial writes it: a durable queue, persistent messages,
 * `prefetch(PREFETCH)`, one `ack` per message.
 *
 *   node amqplib-work.mjs worker URL QUEUE N PREFETCH   consume N messages, print a JSON line
 *   node amqplib-work.mjs producer URL QUEUE N SIZE     publish N messages of SIZE bytes
 *
 * Times are Date.now()/1000 plus performance.now() fractions (the same wall clock as the
 * Python scripts), so the orchestrator measures from the first publish to the last ack.
 */
import amqp from 'amqplib';

const [role, url, queue, nArg, extra] = process.argv.slice(2);
const n = Number(nArg);
const now = () => (performance.timeOrigin + performance.now()) / 1000;
const conn = await amqp.connect(url);
const ch = await conn.createChannel();
await ch.assertQueue(queue, { durable: true });
if (role === 'worker') {
  await ch.prefetch(Number(extra));
  let count = 0;
  let first = null;
  const done = new Promise((resolve) => {
    ch.consume(queue, (msg) => {
      ch.ack(msg);
      first ??= now();
      if (++count === n) resolve();
    });
  });
  console.log(JSON.stringify({ ready: true }));
  await done;
  console.log(JSON.stringify({ done: now(), first, count }));
} else {
  const body = Buffer.alloc(Number(extra), 'x');
  const started = now();
  for (let i = 0; i < n; i++) {
    // the tutorial's loop, plus waiting for 'drain' when amqplib's buffer says so
    if (!ch.sendToQueue(queue, body, { persistent: true })) await new Promise((resolve) => ch.once('drain', resolve));
  }
  console.log(JSON.stringify({ started, published: now() }));
}
await ch.close();
await conn.close();
