/**
 * Large AMQP bodies reuse the body pool's buffers once their message is acked
 * (src/core/body-pool.ts), with real amqplib clients on a real broker: in steady flow most
 * bodies are recycled and few new buffers are made, every body arrives intact with poisoning
 * on (a buffer is overwritten with 0xDB once it is reusable), and a message that more than one
 * queue holds is never recycled. The adversarial cases are in test/durability/body-pool-*.
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyPool } from '../../../src/core/body-pool.js';
import { startBroker, isExternalBroker, type TestBroker } from '../../helpers/broker.js';
import { poisonBodyPool } from '../../helpers/body-pool-watch.js';

const KiB = 1024;

/** a body whose every byte depends on its number, so any overwrite shows */
function bodyOf(n: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE((n * 2654435761 + i) >>> 0, i);
  return b;
}

let broker: TestBroker;
let conn: ChannelModel;
let restorePoison = (): void => {};
beforeAll(async () => {
  restorePoison = poisonBodyPool();
  broker = await startBroker();
  conn = await amqp.connect(broker.url);
});
afterAll(async () => {
  restorePoison();
  await conn?.close().catch(() => {});
  await broker?.stop();
});

/** Publish `count` bodies with confirms (at most `window` outstanding) while `consume` runs. */
async function publishAll(ch: ConfirmChannel, exchange: string, key: string, count: number, size: number, window = 16): Promise<void> {
  let inFlight: Promise<void>[] = [];
  for (let n = 0; n < count; n++) {
    inFlight.push(
      new Promise((resolve, reject) => {
        ch.publish(exchange, key, bodyOf(n, size), { persistent: true, messageId: String(n) }, (err) => (err ? reject(err) : resolve()));
      }),
    );
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}

/** Consume `count` messages from `queue`, checking each body in full, acking each (or every `multipleEvery`-th with multiple). */
function consumeAll(ch: Channel, queue: string, count: number, size: number, multipleEvery = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    let bad = 0;
    void ch.consume(queue, (m) => {
      if (m === null) return reject(new Error('consumer cancelled'));
      const n = Number(m.properties.messageId);
      if (m.content.length !== size || !m.content.equals(bodyOf(n, size))) bad++;
      seen++;
      if (seen % multipleEvery === 0 || seen === count) ch.ack(m, multipleEvery > 1);
      if (seen === count) resolve(bad);
    });
  });
}

describe.skipIf(isExternalBroker)('AMQP body recycling', () => {
  it('never recycles a body that two queues hold: both copies arrive intact', async () => {
    const size = 64 * KiB;
    const count = 60;
    const ch = await conn.createConfirmChannel();
    const a = await conn.createChannel();
    const b = await conn.createChannel();
    const x = `fan-${Date.now()}`;
    await ch.assertExchange(x, 'fanout', { durable: true });
    const qa = (await ch.assertQueue(`${x}-a`, { durable: true })).queue;
    const qb = (await ch.assertQueue(`${x}-b`, { durable: true })).queue;
    await ch.bindQueue(qa, x, '');
    await ch.bindQueue(qb, x, '');
    // first in this file: no earlier test's bodies are still on their way back to the pool
    const before = bodyPool.stats.recycled;
    await publishAll(ch, x, '', count, size);
    // one queue acks everything first; the other's copies must still be whole
    expect(await consumeAll(a, qa, count, size)).toBe(0);
    expect(await consumeAll(b, qb, count, size)).toBe(0);
    expect(bodyPool.stats.recycled - before).toBe(0);
    await ch.close();
    await a.close();
    await b.close();
  });

  it('recycles most large bodies in steady flow, and each arrives intact', async () => {
    const size = 256 * KiB;
    const count = 300;
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    const q = `recycle-${Date.now()}`;
    await pub.assertQueue(q, { durable: true });
    await sub.prefetch(8);
    const before = { ...bodyPool.stats };
    const consumed = consumeAll(sub, q, count, size, 3);
    await publishAll(pub, '', q, count, size);
    expect(await consumed).toBe(0);
    const taken = bodyPool.stats.taken - before.taken;
    const recycled = bodyPool.stats.recycled - before.recycled;
    const allocated = bodyPool.stats.allocated - before.allocated;
    expect(taken).toBe(count);
    // the last few acks may still wait for a flush or the journal when the test reads the counters
    expect(recycled).toBeGreaterThan(count / 2);
    expect(allocated).toBeLessThan(count / 2);
    await pub.close();
    await sub.close();
  });
});
