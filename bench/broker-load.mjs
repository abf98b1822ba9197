/**
 * Load for the durability benches (broker-reclaim, broker-backlog, broker-recovery):
 * a publisher with confirms and a bounded window of unconfirmed messages, and a consumer
 * that acks and checks order. Bodies carry a stream number and a per-stream seq in their
 * first 8 bytes (u32 LE each), so a consumer can check order per stream (AMQP 0-9-1 §4.7:
 * one publisher channel, one queue) without keeping the messages.
 */
import amqp from 'amqplib';

/**
 * Publish `count` persistent messages of `size` bytes, round-robin over `routes`
 * ({ queue, stream } each), with confirms, at most `window` unconfirmed.
 * @param {string} url
 * @param {{ routes: { queue: string, stream: number }[], count: number, size: number, window?: number,
 *           onProgress?: (confirmed: number) => void }} o
 * @returns {Promise<{ published: number, confirmed: number, nacked: number, seconds: number, bytes: number }>}
 */
export async function publish(url, o) {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  for (const r of o.routes) await ch.assertQueue(r.queue, { durable: true });
  const window = o.window ?? 500;
  /** one buffer per route, rewritten per message: amqplib copies it into frames at once */
  const bodies = o.routes.map((r) => {
    const b = Buffer.alloc(o.size, 0x61 + (r.stream % 26));
    b.writeUInt32LE(r.stream, 0);
    return b;
  });
  /** stream → last seq: several routes may feed one stream */
  const seqs = new Map(o.routes.map((r) => [r.stream, 0]));
  const t0 = performance.now();
  const stats = { published: 0, confirmed: 0, nacked: 0, seconds: 0, bytes: 0 };
  let outstanding = 0;
  let failure = /** @type {Error | null} */ (null);
  await new Promise((resolve, reject) => {
    const done = (/** @type {any} */ err) => {
      outstanding--;
      if (err) {
        if (String(err.message).includes('nacked')) stats.nacked++;
        else failure ??= err;
      } else stats.confirmed++;
      if (failure) return reject(failure);
      if (o.onProgress && stats.confirmed % 10_000 === 0) o.onProgress(stats.confirmed);
      if (stats.confirmed + stats.nacked === o.count) resolve(undefined);
      else if (outstanding <= window / 2) pump();
    };
    let blocked = false;
    const pump = () => {
      if (blocked) return;
      while (outstanding < window && stats.published < o.count) {
        const i = stats.published % o.routes.length;
        const stream = o.routes[i].stream;
        const seq = /** @type {number} */ (seqs.get(stream)) + 1;
        seqs.set(stream, seq);
        bodies[i].writeUInt32LE(seq, 4);
        stats.published++;
        stats.bytes += o.size;
        outstanding++;
        if (!ch.sendToQueue(o.routes[i].queue, bodies[i], { persistent: true }, done)) {
          blocked = true;
          ch.once('drain', () => {
            blocked = false;
            pump();
          });
          return;
        }
      }
    };
    conn.on('error', reject);
    ch.on('error', reject);
    pump();
  });
  stats.seconds = (performance.now() - t0) / 1000;
  await conn.close();
  return stats;
}

/**
 * Consume `queue`, acking every delivery (with `multiple` every `ackEvery`), and check that
 * each stream's seqs arrive strictly increasing.
 * @param {string} url @param {string} queue
 * @param {{ prefetch?: number, ackEvery?: number }} [o]
 */
export async function consume(url, queue, o = {}) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true });
  await ch.prefetch(o.prefetch ?? 1000);
  const ackEvery = o.ackEvery ?? 50;
  /** @type {Map<number, number>} */
  const last = new Map();
  const state = { received: 0, bytes: 0, outOfOrder: 0, firstAt: 0, lastAt: 0 };
  /** @type {import('amqplib').Message | null} */
  let unacked = null;
  let pending = 0;
  const flush = () => {
    if (unacked) ch.ack(unacked, true);
    unacked = null;
    pending = 0;
  };
  const timer = setInterval(flush, 50);
  const { consumerTag } = await ch.consume(queue, (m) => {
    if (!m) return;
    const stream = m.content.readUInt32LE(0);
    const seq = m.content.readUInt32LE(4);
    if (seq <= (last.get(stream) ?? 0)) state.outOfOrder++;
    last.set(stream, seq);
    state.received++;
    state.bytes += m.content.length;
    state.lastAt = performance.now();
    if (state.firstAt === 0) state.firstAt = state.lastAt;
    unacked = m;
    if (++pending >= ackEvery) flush();
  });
  return {
    state,
    /** resolves once `n` messages have arrived (or rejects after `timeoutMs` without progress) */
    async until(/** @type {number} */ n, timeoutMs = 60_000) {
      let seen = state.received;
      let progressAt = Date.now();
      while (state.received < n) {
        await new Promise((r) => setTimeout(r, 50));
        if (state.received !== seen) {
          seen = state.received;
          progressAt = Date.now();
        } else if (Date.now() - progressAt > timeoutMs) {
          throw new Error(`${queue}: ${state.received} of ${n} messages, none for ${timeoutMs / 1000} s`);
        }
      }
      flush();
    },
    async close() {
      clearInterval(timer);
      flush();
      await ch.cancel(consumerTag).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}

/** Messages ready in `queue` (passive declare). @param {string} url @param {string} queue */
export async function queueDepth(url, queue) {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

/** Delete `queue` (what a bench declared on a broker that outlives it). @param {string} url @param {string} queue */
export async function deleteQueue(url, queue) {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
  } finally {
    await conn.close();
  }
}
