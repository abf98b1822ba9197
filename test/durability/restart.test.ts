import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';

/** A broker on port 0 over a data directory that outlives it, so it can be restarted. */
function brokerOn(dataDir: string) {
  return new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function withBroker<T>(dataDir: string, f: (url: string) => Promise<T>): Promise<T> {
  const b = brokerOn(dataDir);
  await b.start();
  try {
    return await f(b.url('amqp'));
  } finally {
    await b.stop();
  }
}

describe('durability across a restart', () => {
  it('keeps durable exchanges, queues, bindings and persistent messages; drops the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-restart-'));
    dirs.push(dir);
    await withBroker(dir, async (url) => {
      const c = await amqp.connect(url);
      const ch = await c.createConfirmChannel();
      await ch.assertExchange('dx', 'topic', { durable: true });
      await ch.assertExchange('tx', 'fanout', { durable: false });
      await ch.assertQueue('dq', { durable: true, arguments: { 'x-max-priority': 0, 'x-message-ttl': 60000 } });
      await ch.assertQueue('tq', { durable: false });
      await ch.bindQueue('dq', 'dx', 'a.#');
      for (let i = 0; i < 50; i++) ch.publish('dx', 'a.b', Buffer.from(`p${i}`), { persistent: true, messageId: `p${i}` });
      ch.publish('dx', 'a.b', Buffer.from('transient'), { persistent: false });
      ch.sendToQueue('tq', Buffer.from('gone'), { persistent: true });
      await ch.waitForConfirms();
      // two messages delivered and left unacked: they come back redelivered
      const got = await ch.get('dq', { noAck: false });
      expect(got && got.content.toString()).toBe('p0');
      await c.close();
    });
    await withBroker(dir, async (url) => {
      const c = await amqp.connect(url);
      const ch = await c.createChannel();
      c.on('error', () => {});
      const q = await ch.checkQueue('dq');
      expect(q.messageCount).toBe(50);
      await expect(ch.checkExchange('dx')).resolves.toBeTruthy();
      const bodies: string[] = [];
      const redelivered: boolean[] = [];
      for (;;) {
        const m = await ch.get('dq', { noAck: true });
        if (!m) break;
        bodies.push(m.content.toString());
        redelivered.push(m.fields.redelivered);
      }
      expect(bodies).toEqual(Array.from({ length: 50 }, (_, i) => `p${i}`));
      expect(redelivered[0]).toBe(true);
      // the binding came back: a new persistent publish is routed
      ch.publish('dx', 'a.x', Buffer.from('after'), { persistent: true });
      await new Promise((r) => setTimeout(r, 50));
      expect((await ch.checkQueue('dq')).messageCount).toBe(1);
      await expect(ch.checkQueue('tq')).rejects.toThrow(/404/);
      await c.close().catch(() => undefined);
    });
  });

  it('pages a deep durable queue out of memory and delivers it in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-paging-'));
    dirs.push(dir);
    const b = brokerOn(dir);
    await b.start();
    try {
      const c = await amqp.connect(b.url('amqp'));
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('deep', { durable: true });
      const n = 20000;
      for (let i = 0; i < n; i++) ch.sendToQueue('deep', Buffer.from(`m${i}`), { persistent: i % 3 !== 0 });
      await ch.waitForConfirms();
      const q = b.core.vhosts.get('/')!.queues.get('deep')!;
      expect(q.messageCount).toBe(n);
      expect(q.pagedCount).toBeGreaterThan(0);
      expect(q.windowLength).toBeLessThanOrEqual(4096);
      await ch.prefetch(500);
      let next = 0;
      let inOrder = true;
      await new Promise<void>((resolve) => {
        ch.consume('deep', (m) => {
          if (!m) return;
          if (m.content.toString() !== `m${next}`) inOrder = false;
          next++;
          ch.ack(m);
          if (next === n) resolve();
        });
      });
      expect(inOrder).toBe(true);
      await c.close();
    } finally {
      await b.stop();
    }
  }, 60_000); // CPU-heavy: the 15 s default was not enough at load average 35 on 2 cores
});
