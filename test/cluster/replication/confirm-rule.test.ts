/**
 * The confirm rule with real AMQP publishers: a confirm waits for every ISR member's ack
 * after its own fdatasync (the follower's sync is held in these tests: a confirm that went
 * out after the leader's local fdatasync only is caught), and with fewer than minIsr nodes in
 * sync confirms are held, then refused (basic.nack) after refuseAfterMs, the broker carrying on.
 */
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { newFollower, removeTempDirs, startFollower, startLeader, syncGate, tempDir, until } from './helpers.js';

afterEach(removeTempDirs);

/** long enough, on a loaded machine, for an early confirm to arrive */
const EARLY_WINDOW_MS = 400;

describe('confirm rule', () => {
  it('no confirm before the in-sync follower has synced and acked', async () => {
    const l = await startLeader({ minIsr: 2 });
    // the follower's sync waits while the gate is closed
    const sync = syncGate();
    const g = await startFollower(l.address, await tempDir('warren-follower-'), 'f1', { beforeSync: sync.beforeSync });
    l.leader.setIsr(['f1']);
    const conn = await amqp.connect(l.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('gated', { durable: true });
      await ch.assertQueue('gated-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
      let acks = 0;
      sync.close();
      for (let i = 0; i < 5; i++) {
        ch.sendToQueue('gated', Buffer.from(`m${i}`), { persistent: true }, (err) => {
          if (!err) acks++;
        });
        ch.sendToQueue('gated-stream', Buffer.from(`s${i}`), { persistent: true }, (err) => {
          if (!err) acks++;
        });
      }
      await until(() => sync.held > 0, 'the follower to hold a sync');
      await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
      expect(acks, 'confirms seen while the follower had not synced').toBe(0);
      sync.open();
      await until(() => acks === 10, 'every confirm');
    } finally {
      sync.open();
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await g.stop();
      await l.leader.close();
    }
  }, 60_000);

  it('below minIsr confirms are held, then refused; the broker carries on', async () => {
    const l = await startLeader({ minIsr: 2, refuseAfterMs: 1500 });
    // the queue is declared while a follower is in sync (a declare-ok waits for the ISR too), then it leaves
    const first = await startFollower(l.address, await tempDir('warren-follower-'), 'f0');
    l.leader.setIsr(['f0']);
    const conn = await amqp.connect(l.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('lonely', { durable: true });
      l.leader.setIsr([]);
      await first.stop();
      const outcome: string[] = [];
      const t0 = Date.now();
      let at = 0;
      for (let i = 0; i < 3; i++) {
        ch.sendToQueue('lonely', Buffer.from(`m${i}`), { persistent: true }, (err) => {
          outcome.push(err ? 'nack' : 'ack');
          at = Date.now() - t0;
        });
      }
      await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
      expect(outcome, 'nothing confirmed on one disk').toEqual([]);
      await until(() => outcome.length === 3, 'the refusals');
      expect(outcome).toEqual(['nack', 'nack', 'nack']);
      expect(at).toBeGreaterThanOrEqual(1400);
      // the channel and the broker carry on: a follower joins the ISR and confirms flow again
      const follower = newFollower(l.address, await tempDir('warren-follower-'));
      const up = new Promise<void>((r) => follower.once('caught-up', () => r()));
      await follower.start();
      await up;
      l.leader.setIsr(['f1']);
      await new Promise<void>((resolve, reject) => ch.sendToQueue('lonely', Buffer.from('later'), { persistent: true }, (err) => (err ? reject(new Error('nacked')) : resolve())));
      await follower.stop();
    } finally {
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await l.leader.close();
    }
  }, 60_000);

  it('mayConfirm false (the lease may have lapsed) holds confirms until it allows them', async () => {
    let leaseValid = true;
    const l = await startLeader({ minIsr: 1, mayConfirm: () => leaseValid });
    const conn = await amqp.connect(l.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('fenced', { durable: true });
      let acks = 0;
      leaseValid = false;
      for (let i = 0; i < 3; i++) ch.sendToQueue('fenced', Buffer.from(`m${i}`), { persistent: true }, (err) => void (err ? undefined : acks++));
      await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
      expect(acks, 'confirms while the lease may have lapsed').toBe(0);
      leaseValid = true;
      await until(() => acks === 3, 'the confirms');
    } finally {
      leaseValid = true;
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await l.leader.close();
    }
  });

  it("an ISR member silent past the ack deadline is reported 'lagging'; confirms stay held until setIsr drops it", async () => {
    const l = await startLeader({ minIsr: 1, ackDeadlineMs: 300 });
    let hold = false;
    const waiting: (() => void)[] = [];
    const beforeSync = (): Promise<void> => (hold ? new Promise<void>((r) => waiting.push(r)) : Promise.resolve());
    const f = await startFollower(l.address, await tempDir('warren-follower-'), 'f1', { beforeSync });
    l.leader.setIsr(['f1']);
    const lagging: { id: string; at: number }[] = [];
    l.leader.on('lagging', (id: string) => lagging.push({ id, at: Date.now() }));
    const conn = await amqp.connect(l.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('laggy', { durable: true });
      hold = true;
      let acks = 0;
      const t0 = Date.now();
      ch.sendToQueue('laggy', Buffer.from('x'), { persistent: true }, (err) => void (err ? undefined : acks++));
      await until(() => lagging.length > 0, "'lagging'");
      expect(lagging[0].id).toBe('f1');
      expect(lagging[0].at - t0).toBeGreaterThanOrEqual(250);
      // the node has not removed it from the ISR yet: still held
      await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
      expect(acks).toBe(0);
      expect(lagging.length).toBe(1);
      l.leader.setIsr([]);
      await until(() => acks === 1, 'the confirm once the ISR no longer names it');
    } finally {
      hold = false;
      for (const go of waiting.splice(0)) go();
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await f.stop();
      await l.leader.close();
    }
  });
});
