/**
 * Replication of a journal with left-out records (src/store/elision.ts): a persistent message
 * consumed and acked before its group commit is never written, so never shipped — the
 * leader's gather write of such a round is several positional writes with gaps, and the
 * follower writes the same pieces at the same places. With a follower in the ISR: the
 * follower's logs are byte-identical to the leader's, its data dir opened as a Broker has
 * every message no consumer took (intact) and none of the consumed ones, and the leader
 * shipped fewer bytes than the bodies it took.
 */
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker.js';
import type { FileStore } from '../../../src/store/file-store.js';
import { brokerOptions, differingFiles, removeTempDirs, shippedFiles, startFollower, startLeader, synced, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const BODY = 64 * 1024;
const body = (i: number): Buffer => Buffer.alloc(BODY, i & 0xff);

describe('replication with records left out of the journal', () => {
  it('consumed-before-written messages are not shipped; the follower has every other one, byte-identical logs', async () => {
    const l = await startLeader({ minIsr: 2 });
    const followerDir = await tempDir('warren-follower-');
    const f = await startFollower(l.address, followerDir);
    l.leader.setIsr(['f1']);
    const store = () => l.broker.core.vhosts.get('/')!.store!.messages as FileStore;

    const conn = await amqp.connect(l.amqpUrl);
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    await pub.assertQueue('consumed', { durable: true });
    await pub.assertQueue('kept', { durable: true });
    let acked = 0;
    await sub.consume('consumed', (m) => {
      if (!m) return;
      sub.ack(m);
      acked++;
    });
    // bursts until some consumed record was left out (timing decides which: at least one is)
    let sent = 0;
    let kept = 0;
    for (let burst = 0; burst < 20 && store().metrics().elided.records === 0; burst++) {
      for (let i = 0; i < 40; i++) pub.sendToQueue('consumed', body(sent++), { persistent: true });
      pub.sendToQueue('kept', body(kept), { persistent: true, messageId: `k${kept++}` });
      await pub.waitForConfirms();
    }
    await new Promise<void>((resolve) => {
      const t = setInterval(() => acked === sent && (clearInterval(t), resolve()), 10);
    });
    const m = store().metrics();
    expect(m.elided.records).toBeGreaterThan(0);
    // what reached the log (and so the follower) is short of every body taken by the elided ones
    expect(m.journalBytesWritten).toBeLessThan((sent + kept - m.elided.records + 1) * (BODY + 256));
    await conn.close();

    await l.broker.stop();
    await synced(l.leader);
    await f.stop();
    await l.leader.close();
    expect(differingFiles(shippedFiles(l.dataDir), shippedFiles(followerDir))).toEqual([]);

    const promoted = new Broker(brokerOptions(followerDir));
    await promoted.start();
    try {
      const a = promoted.address('amqp');
      const c = await amqp.connect(`amqp://guest:guest@${a.host}:${a.port}`);
      const ch = await c.createChannel();
      const got: string[] = [];
      for (;;) {
        const msg = await ch.get('kept', { noAck: true });
        if (msg === false) break;
        expect(msg.content.equals(body(Number(String(msg.properties.messageId).slice(1))))).toBe(true);
        got.push(String(msg.properties.messageId));
      }
      expect(got).toEqual(Array.from({ length: kept }, (_, i) => `k${i}`));
      expect(await ch.get('consumed', { noAck: true })).toBe(false);
      await c.close();
    } finally {
      await promoted.stop();
    }
  }, 90_000);
});
