/**
 * Recycled message bodies are never read again. Large AMQP bodies come from a pool and go back
 * to it on the consumer's ack when nothing else can read them (src/core/body-pool.ts): routed
 * to one classic queue, delivered once, never copied, after the socket and the journal are done
 * with them. With the pool's poison on, a body is overwritten with 0xDB the moment it becomes
 * reusable, so a path that still reads one then reads poison here, every run. Every body these
 * tests receive is checked byte for byte against its seed (test/helpers/seeded-bodies.ts);
 * where a release is expected the pool's `recycled` counter must grow, or the test proves
 * nothing. Over amqplib against an in-process Warren with management; the early acks of a raw
 * client and other protocols: body-pool-clients.test.ts; the journal: body-pool-journal.test.ts.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManaged, type ManagedBroker } from '../plugins/management/helpers.js';
import { poisonBodyPool, recycledCount, recycledPast } from '../helpers/body-pool-watch.js';
import { SeedLedger, checkBody, consumeSeeded, publishSeeded } from '../helpers/seeded-bodies.js';

let m: ManagedBroker;
let conn: ChannelModel;
let restorePoison: () => void;
beforeAll(async () => {
  restorePoison = poisonBodyPool();
  m = await startManaged();
  conn = await amqp.connect(m.amqpUrl);
});
afterAll(async () => {
  await conn?.close().catch(() => undefined);
  await m?.stop();
  restorePoison?.();
});

/** Busy side traffic on queue `q`: published, consumed and acked, so released bodies are taken again (and overwritten) while a test runs. */
async function churn(queue: string, n: number, base: number): Promise<void> {
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  await sub.assertQueue(queue, { durable: true });
  await sub.prefetch(5);
  const ledger = new SeedLedger(base);
  const done = consumeSeeded(sub, queue, ledger, n, (msg) => sub.ack(msg));
  await publishSeeded(pub, '', queue, ledger, n, 256 * 1024);
  await done;
  ledger.expectAllReceived();
  await pub.close();
  await sub.close();
}

describe('body pool: recycled bodies are never read again (poison on)', () => {
  it('one queue, manual acks single and multiple, publishing while consuming: every body intact, bodies recycled', async () => {
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    await sub.assertQueue('plain', { durable: true });
    await sub.prefetch(8);
    const ledger = new SeedLedger(1_000_000);
    await publishSeeded(pub, '', 'plain', ledger, 20);
    const before = recycledCount();
    // every third delivery acks the ones before it with multiple=true, the rest are acked one by one
    let pendingMultiple: ConsumeMessage | null = null;
    const done = consumeSeeded(sub, 'plain', ledger, 60, (msg, i) => {
      if (i % 3 === 2) {
        sub.ack(msg, true);
        pendingMultiple = null;
      } else if (i % 3 === 1) pendingMultiple = msg;
      else sub.ack(msg);
      if (i === 59 && pendingMultiple) sub.ack(pendingMultiple);
    });
    await publishSeeded(pub, '', 'plain', ledger, 40); // while the first 20 are consumed
    await done;
    ledger.expectAllReceived();
    await recycledPast(before, 'acks on one classic queue');
    await pub.close();
    await sub.close();
  });

  it('fanout to two classic queues; to a classic queue and a stream; to a stream alone: every copy intact in every queue after the others were acked', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('fan', 'fanout', { durable: true });
    await ch.assertExchange('fan.wide', 'fanout', { durable: true });
    for (const q of ['fan.a', 'fan.b', 'fan.c']) await ch.assertQueue(q, { durable: true });
    await ch.assertQueue('fan.s', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await ch.bindQueue('fan.a', 'fan', '');
    await ch.bindQueue('fan.b', 'fan', '');
    await ch.bindQueue('fan.c', 'fan.wide', '');
    await ch.bindQueue('fan.s', 'fan.wide', '');
    const classic = new SeedLedger(2_000_000);
    await publishSeeded(ch, 'fan', '', classic, 16);
    const wide = new SeedLedger(2_030_000);
    await publishSeeded(ch, 'fan.wide', '', wide, 8);
    // one queue, but a stream keeps what it appends
    const streamOnly = new SeedLedger(2_060_000);
    await publishSeeded(ch, '', 'fan.s', streamOnly, 8);
    const inStream = [...wide.sent, ...streamOnly.sent].sort((a, b) => a - b);
    const sub = await conn.createChannel();
    await sub.prefetch(4);
    const got = (queue: string, n: number, args?: Record<string, unknown>) => {
      const ledger = new SeedLedger(0);
      return consumeSeeded(sub, queue, ledger, n, (msg) => sub.ack(msg), args).then(() => ledger.received.sort((a, b) => a - b));
    };
    expect(await got('fan.a', 16)).toEqual(classic.sent);
    expect(await got('fan.c', 8)).toEqual(wide.sent);
    expect(await got('fan.s', 16, { 'x-stream-offset': 'first' })).toEqual(inStream);
    // released bodies (if any were, wrongly) are taken again by this traffic
    await churn('fan.churn', 12, 2_100_000);
    expect(await got('fan.b', 16)).toEqual(classic.sent);
    // the stream still holds its copies after every consumer acked them
    expect(await got('fan.s', 16, { 'x-stream-offset': 'first' })).toEqual(inStream);
    await ch.close();
    await sub.close();
  });

  it('dead-lettered by nack, reject and TTL: the copies intact, and the originals kept in a second queue intact after the copies were acked', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('dlx.fan', 'fanout', { durable: true });
    await ch.assertQueue('dlx.dead', { durable: true });
    await ch.assertQueue('dlx.keep', { durable: true });
    await ch.assertQueue('dlx.src', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlx.dead' } });
    await ch.assertQueue('dlx.ttl', { durable: true, arguments: { 'x-message-ttl': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlx.dead' } });
    for (const q of ['dlx.keep', 'dlx.src', 'dlx.ttl']) await ch.bindQueue(q, 'dlx.fan', '');
    const sent = new SeedLedger(3_000_000);
    await publishSeeded(ch, 'dlx.fan', '', sent, 12);
    // published to one queue only, then dead-lettered: the copy is all that is left of them
    const single = new SeedLedger(3_100_000);
    await publishSeeded(ch, '', 'dlx.src', single, 8);
    const sub = await conn.createChannel();
    await sub.prefetch(6);
    const src = new SeedLedger(0);
    await consumeSeeded(sub, 'dlx.src', src, 20, (msg, i) => (i % 2 === 0 ? sub.nack(msg, false, false) : sub.reject(msg, false)));
    const dead = new SeedLedger(0);
    // 12 by nack/reject from dlx.src, 12 expired from dlx.ttl, 8 single-queue ones dead-lettered
    await consumeSeeded(sub, 'dlx.dead', dead, 32, (msg) => sub.ack(msg));
    expect([...new Set(dead.received)].sort((a, b) => a - b)).toEqual([...sent.sent, ...single.sent].sort((a, b) => a - b));
    await churn('dlx.churn', 12, 3_200_000);
    const keep = new SeedLedger(0);
    await consumeSeeded(sub, 'dlx.keep', keep, 12, (msg) => sub.ack(msg));
    expect(keep.received.sort((a, b) => a - b)).toEqual(sent.sent);
    await ch.close();
    await sub.close();
  });

  it('requeued by nack, basic.recover, consumer cancel and connection close: a second consumer gets every body intact and acks', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('requeue', { durable: true });
    const sent = new SeedLedger(4_000_000);
    await publishSeeded(ch, '', 'requeue', sent, 24);
    const seen = new SeedLedger(0);
    // 1: nack requeue=true; 2: basic.recover; 3: cancel with unacked; 4: connection closed with unacked
    const first = await conn.createChannel();
    await first.prefetch(6);
    await consumeSeeded(first, 'requeue', seen, 6, (msg) => first.nack(msg, false, true)).then((tag) => first.cancel(tag));
    const second = await conn.createChannel();
    await second.prefetch(6);
    await consumeSeeded(second, 'requeue', seen, 6, () => {});
    await second.recover();
    await second.close();
    const third = await conn.createChannel();
    await third.prefetch(6);
    await third.cancel(await consumeSeeded(third, 'requeue', seen, 6, () => {}));
    const other = await amqp.connect(m.amqpUrl);
    const fourth = await other.createChannel();
    await fourth.prefetch(6);
    await consumeSeeded(fourth, 'requeue', seen, 6, () => {});
    await other.close();
    await third.close();
    const before = recycledCount();
    const last = await conn.createChannel();
    await last.prefetch(4);
    const final = new SeedLedger(0);
    const all = consumeSeeded(last, 'requeue', final, 24, (msg) => last.ack(msg));
    await churn('requeue.churn', 12, 4_100_000);
    await all;
    expect(final.received.sort((a, b) => a - b)).toEqual(sent.sent);
    await recycledPast(before, 'the side traffic acked while redeliveries were acked');
    await ch.close();
    await last.close();
  });

  it('acks inside a transaction: rolled back and redelivered intact, then committed', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('tx', { durable: true });
    const sent = new SeedLedger(5_000_000);
    await publishSeeded(ch, '', 'tx', sent, 10);
    const tx = await conn.createChannel();
    await txSelect(tx);
    await tx.prefetch(10);
    const seen = new SeedLedger(0);
    const tag = await consumeSeeded(tx, 'tx', seen, 10, (msg, i) => tx.ack(msg, i === 9 ? false : i % 2 === 1));
    await txRollback(tx); // the acks are dropped: the ten stay unacked on this channel
    await tx.cancel(tag);
    await churn('tx.churn', 12, 5_100_000);
    await tx.close(); // and come back for the next consumer
    const before = recycledCount();
    const again = await conn.createChannel();
    await txSelect(again);
    await again.prefetch(10);
    const redelivered = new SeedLedger(0);
    await consumeSeeded(again, 'tx', redelivered, 10, (msg) => again.ack(msg, true));
    expect(redelivered.received.sort((a, b) => a - b)).toEqual(sent.sent);
    // fresh ones acked in a committed transaction are recycled
    const fresh = new SeedLedger(5_200_000);
    await publishSeeded(ch, '', 'tx', fresh, 6);
    const got = new SeedLedger(0);
    await consumeSeeded(again, 'tx', got, 6, (msg) => again.ack(msg));
    await txCommit(again);
    expect(got.received.sort((a, b) => a - b)).toEqual(fresh.sent);
    await recycledPast(before, 'acks in a committed transaction');
    await ch.close();
    await again.close();
  });

  it('basic.get with ack, noAck consumers, and management get-messages after acks: intact', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('get', { durable: true });
    const sent = new SeedLedger(6_000_000);
    await publishSeeded(ch, '', 'get', sent, 16, 256 * 1024);
    const before = recycledCount();
    const got = new SeedLedger(0);
    for (let i = 0; i < 8; i++) {
      const msg = await ch.get('get', { noAck: false });
      if (msg === false) throw new Error('get-empty with 8 messages left');
      got.receive(msg.content, 'basic.get');
      ch.ack(msg);
    }
    await recycledPast(before, 'basic.get + ack');
    // what is left, read through the management API (requeued each time) while other bodies are recycled
    await churn('get.churn', 8, 6_100_000);
    for (let round = 0; round < 2; round++) {
      const r = await m.api('POST', '/api/queues/%2F/get/get', { count: 8, ackmode: 'ack_requeue_true', encoding: 'base64' });
      expect(r.status).toBe(200);
      const payloads = (r.body as { payload: string }[]).map((x) => Buffer.from(x.payload, 'base64'));
      expect(payloads.map((b) => checkBody(b, 'management get')).sort((a, b) => a - b)).toEqual(sent.sent.slice(8));
    }
    // autoack: settled as sent, never by an ack
    const noAck = await conn.createChannel();
    const auto = new SeedLedger(6_200_000);
    const consumed = new SeedLedger(0);
    const done = new Promise<void>((resolve) =>
      void noAck.consume(
        'get',
        (msg) => {
          if (msg && consumed.received.length < 24) consumed.receive(msg.content, 'noAck delivery');
          if (consumed.received.length === 24) resolve();
        },
        { noAck: true },
      ),
    );
    await publishSeeded(ch, '', 'get', auto, 16, 256 * 1024);
    await done;
    expect(consumed.received.sort((a, b) => a - b)).toEqual([...sent.sent.slice(8), ...auto.sent].sort((a, b) => a - b));
    await ch.close();
    await noAck.close();
  });
});

/** AMQP 0-9-1 class tx (90), through amqplib's generic rpc (it has no tx API of its own). */
const TX = { select: (90 << 16) | 10, selectOk: (90 << 16) | 11, commit: (90 << 16) | 20, commitOk: (90 << 16) | 21, rollback: (90 << 16) | 30, rollbackOk: (90 << 16) | 31 };
const rpc = (ch: Channel, method: number, ok: number) => (ch as unknown as { rpc(m: number, f: object, e: number): Promise<unknown> }).rpc(method, {}, ok);
const txSelect = (ch: Channel) => rpc(ch, TX.select, TX.selectOk);
const txCommit = (ch: Channel) => rpc(ch, TX.commit, TX.commitOk);
const txRollback = (ch: Channel) => rpc(ch, TX.rollback, TX.rollbackOk);
