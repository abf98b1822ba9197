/**
 * Quorum queues across a restart: every message a quorum queue took is stored, transient
 * ones included (RabbitMQ: "Per message persistence: always"), so a confirmed publish
 * survives; its definition, order and redelivered flags come back. What a restart does not
 * keep: delivery counts (x-delivery-count starts again from the redelivered flag).
 */
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, startOn, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('quorum queue restart', () => {
  it('recovers confirmed transient messages, in order, with the redelivered flag; classic transient ones are gone', async () => {
    const dir = tempDir('warren-quorum-');
    const first = await startOn(dir);
    try {
      const c = await amqp.connect(first.url);
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('qq', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } });
      await ch.assertQueue('cq', { durable: true });
      for (let i = 0; i < 10; i++) {
        ch.sendToQueue('qq', Buffer.from(`q${i}`), { persistent: false });
        ch.sendToQueue('cq', Buffer.from(`c${i}`), { persistent: false });
      }
      await ch.waitForConfirms();
      // one delivery returned: redelivered after the restart too
      const got = await ch.get('qq');
      expect(got && got.content.toString()).toBe('q0');
      ch.nack(got as amqp.GetMessage, false, true);
      await ch.close();
      await c.close();
    } finally {
      await first.broker.stop();
    }

    const second = await startOn(dir);
    try {
      const c = await amqp.connect(second.url);
      const ch = await c.createChannel();
      const qq = await ch.checkQueue('qq');
      expect(qq.messageCount).toBe(10);
      expect((await ch.checkQueue('cq')).messageCount).toBe(0);
      const bodies: string[] = [];
      const redelivered: boolean[] = [];
      for (let m = await ch.get('qq', { noAck: true }); m; m = await ch.get('qq', { noAck: true })) {
        bodies.push(m.content.toString());
        redelivered.push(m.fields.redelivered);
      }
      expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`));
      expect(redelivered[0]).toBe(true);
      expect(redelivered.slice(1).every((r) => !r)).toBe(true);
      // still a quorum queue: its rules hold after the restart
      await ch.assertQueue('qq', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } });
      await c.close();
    } finally {
      await second.broker.stop();
    }
  });
});
