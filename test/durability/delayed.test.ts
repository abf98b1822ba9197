import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const brokerOn = (dataDir: string) => new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });

describe('delayed messages across a restart', () => {
  it('keeps persistent held messages of a durable delayed exchange and delivers them when due', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-delayed-'));
    dirs.push(dir);
    let b = brokerOn(dir);
    await b.start();
    let c = await amqp.connect(b.url('amqp'));
    const ch = await c.createConfirmChannel();
    await ch.assertExchange('later', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue('due', { durable: true });
    await ch.bindQueue('due', 'later', 'k');
    ch.publish('later', 'k', Buffer.from('soon'), { persistent: true, headers: { 'x-delay': 300 } });
    ch.publish('later', 'k', Buffer.from('later'), { persistent: true, headers: { 'x-delay': 900 } });
    ch.publish('later', 'k', Buffer.from('memory-only'), { persistent: false, headers: { 'x-delay': 300 } });
    await ch.waitForConfirms();
    await c.close();
    await b.stop();

    b = brokerOn(dir);
    await b.start();
    try {
      c = await amqp.connect(b.url('amqp'));
      const rch = await c.createChannel();
      const got: string[] = [];
      await rch.consume('due', (m) => m && got.push(m.content.toString()), { noAck: true });
      const t0 = Date.now();
      while (got.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 25));
      expect(got).toEqual(['soon', 'later']);
      await c.close();
    } finally {
      await b.stop();
    }
    // released from the holder: a third start delivers nothing again
    b = brokerOn(dir);
    await b.start();
    try {
      expect(b.core.vhosts.get('/')!.queues.get('due')!.messageCount).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(b.core.vhosts.get('/')!.queues.get('due')!.messageCount).toBe(0);
    } finally {
      await b.stop();
    }
  });
});
