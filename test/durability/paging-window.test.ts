/**
 * The paging window of a durable queue (src/core/queues/classic/queue-pager.ts), by bytes and
 * under memory pressure, with amqplib against a broker on a temp data directory:
 * - a publisher's 32 MiB window of 1 MiB persistent bodies stays in memory (a paged entry
 *   costs a write, a read back and a second CRC pass); past 64 MiB the queue pages, and while
 *   it drains the window never holds more than 64 MiB (a read back adds at most half of it);
 * - above the memory paging threshold (a share of the high watermark, RabbitMQ's
 *   vm_memory_high_watermark_paging_ratio) every new message is paged, and all come back in
 *   order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import { PAGE_WINDOW_BYTES } from '../../src/core/queues/classic/queue-pager.js';
import type { ClassicQueue } from '../../src/core/queues/classic/classic-queue.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
const brokers: Broker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-paging-window-'));
  dirs.push(dataDir);
  const b = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
  await b.start();
  brokers.push(b);
  return b;
}

/** Publish `n` persistent bodies of `size` bytes (byte 0..3: the index) and wait for the confirms. */
async function publish(ch: amqp.ConfirmChannel, queue: string, from: number, n: number, size: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const body = Buffer.alloc(size, 0x61);
    body.writeUInt32BE(i, 0);
    ch.sendToQueue(queue, body, { persistent: true });
  }
  await ch.waitForConfirms();
}

/** Consume `n` messages, checking order; `onEach` sees the queue after each delivery. */
async function drain(ch: amqp.Channel, queue: string, n: number, onEach: () => void): Promise<void> {
  await ch.prefetch(4);
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    void ch.consume(queue, (m) => {
      if (!m) return;
      try {
        expect(m.content.readUInt32BE(0)).toBe(next);
        onEach();
      } catch (e) {
        reject(e);
        return;
      }
      next++;
      ch.ack(m);
      if (next === n) resolve();
    });
  });
}

describe('paging window of a durable queue', () => {
  it('keeps a 32 MiB window of 1 MiB bodies in memory, pages past 64 MiB and never reads back past the window', async () => {
    const b = await start();
    const c = await amqp.connect(b.url('amqp'));
    try {
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('big', { durable: true });
      const q = b.core.vhosts.get('/')!.queues.get('big') as ClassicQueue;
      await publish(ch, 'big', 0, 32, MiB);
      expect(q.pagedCount).toBe(0);
      expect(q.windowBytes).toBeGreaterThanOrEqual(32 * MiB);
      await publish(ch, 'big', 32, 64, MiB);
      expect(q.messageCount).toBe(96);
      expect(q.pagedCount).toBeGreaterThan(0);
      let largest = 0;
      const sub = await c.createChannel();
      await drain(sub, 'big', 96, () => {
        largest = Math.max(largest, q.windowBytes);
      });
      // one body of slack: the entry being delivered is counted until it leaves the window
      expect(largest).toBeLessThanOrEqual(PAGE_WINDOW_BYTES + MiB);
      expect(q.messageCount).toBe(0);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('pages every new message while the broker is above the memory paging threshold, and delivers them in order', async () => {
    const b = await start();
    // the alarm itself stays off (16 GiB), the paging threshold (0.1 % of it) is below any RSS
    b.core.alarms.settings = { ...b.core.alarms.settings, memoryHighWatermark: 16 * 1024 * MiB, memoryPagingRatio: 0.001 };
    b.core.alarms.check();
    expect(b.core.alarms.blocked).toBe(false);
    expect(b.core.alarms.memoryPaging).toBe(true);
    const c = await amqp.connect(b.url('amqp'));
    try {
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('pressed', { durable: true });
      const q = b.core.vhosts.get('/')!.queues.get('pressed') as ClassicQueue;
      await publish(ch, 'pressed', 0, 200, 1024);
      expect(q.messageCount).toBe(200);
      expect(q.pagedCount).toBe(200);
      // pressure gone: what arrives now stays paged behind the backlog, order is kept
      b.core.alarms.settings = { ...b.core.alarms.settings, memoryPagingRatio: 0.99 };
      b.core.alarms.check();
      expect(b.core.alarms.memoryPaging).toBe(false);
      await publish(ch, 'pressed', 200, 50, 1024);
      const sub = await c.createChannel();
      await drain(sub, 'pressed', 250, () => undefined);
      expect(q.messageCount).toBe(0);
    } finally {
      await c.close();
    }
  }, 60_000);
});
