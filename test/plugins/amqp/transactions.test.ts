/**
 * AMQP transactions (tx.select / tx.commit / tx.rollback) with amqplib, which has no tx API
 * of its own: the methods go through its generic `channel.rpc`. RabbitMQ's semantics: the
 * channel holds publishes and acks/nacks/rejects until tx.commit, which applies them in order
 * (mandatory returns come before commit-ok) and answers only once the committed persistent
 * messages are durable; a publish a queue refused fails the commit (406 "partial tx
 * completion"). Mode switches are refused (pika-features.test.ts). Checked against RabbitMQ
 * 3.10.8 except the durability case, which needs Warren's gated disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import { drain, expectCode, firstError, sleep, uniqueName, useClients, waitFor } from '../../helpers/amqp-clients.js';
import { isExternalBroker, startBroker, type TestBroker } from '../../helpers/broker.js';
import { GatedDisk } from '../../helpers/gated-disk.js';

/** AMQP 0-9-1 class tx (90): method ids as amqplib's rpc takes them. */
const TX = { select: (90 << 16) | 10, selectOk: (90 << 16) | 11, commit: (90 << 16) | 20, commitOk: (90 << 16) | 21, rollback: (90 << 16) | 30, rollbackOk: (90 << 16) | 31 };

interface RpcChannel {
  rpc(method: number, fields: object, expect: number): Promise<unknown>;
}
const txSelect = (ch: Channel) => (ch as unknown as RpcChannel).rpc(TX.select, {}, TX.selectOk);
const txCommit = (ch: Channel) => (ch as unknown as RpcChannel).rpc(TX.commit, {}, TX.commitOk);
const txRollback = (ch: Channel) => (ch as unknown as RpcChannel).rpc(TX.rollback, {}, TX.rollbackOk);

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

async function ready(ch: Channel, queue: string): Promise<number> {
  return (await ch.checkQueue(queue)).messageCount;
}

describe('transactions', () => {
  it('holds publishes until commit; a rollback drops them', async () => {
    const { conn, ch } = await clients.open();
    const probe = await clients.channel(conn);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await txSelect(ch);
    ch.sendToQueue(queue, Buffer.from('one'), { persistent: true });
    ch.sendToQueue(queue, Buffer.from('two'));
    await sleep(50);
    expect(await ready(probe, queue)).toBe(0);
    await txCommit(ch);
    expect(await ready(probe, queue)).toBe(2);
    ch.sendToQueue(queue, Buffer.from('three'));
    await txRollback(ch);
    await txCommit(ch); // an empty commit is fine
    expect(bodiesOf(await drain(probe, queue))).toEqual(['one', 'two']);
  });

  it('applies acks, nacks and rejects at commit, in order; a rolled-back ack leaves the delivery unacked', async () => {
    const { conn, ch } = await clients.open();
    const dlx = uniqueName('tx-dlx');
    await ch.assertExchange(dlx, 'fanout', { autoDelete: true });
    const { queue: dead } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(dead, dlx, '');
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-dead-letter-exchange': dlx } });
    for (const b of ['a', 'b', 'c']) ch.sendToQueue(queue, Buffer.from(b));
    const worker = await clients.channel(conn);
    await txSelect(worker);
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await waitGet(worker, queue))!);
    worker.ack(got[0]!);
    worker.reject(got[1]!, false);
    await sleep(50);
    expect(await ready(ch, dead)).toBe(0); // the reject waits for the commit
    await txRollback(worker);
    await txCommit(worker);
    expect(await ready(ch, dead)).toBe(0);
    // the deliveries are still unacked after the rollback: settle them for real now
    worker.ack(got[0]!);
    worker.reject(got[1]!, false);
    worker.nack(got[2]!, false, true);
    await txCommit(worker);
    expect(bodiesOf(await drain(ch, dead))).toEqual(['b']);
    const back = await waitGet(ch, queue);
    expect(back?.content.toString()).toBe('c');
    expect(back?.fields.redelivered).toBe(true);
  });

  it('fails an ack of an unknown or already acked tag at the ack, not at the commit (406, as RabbitMQ)', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('once'));
    const worker = await clients.channel(conn);
    await txSelect(worker);
    const m = (await waitGet(worker, queue))!;
    worker.ack(m);
    worker.ack(m); // taken by the first ack already
    const err = await expectCode(txCommit(worker), 406);
    expect(err.message).toContain('unknown delivery tag 1');
    // the channel closed at the second ack: the first was never committed, the message comes back
    await waitFor(async () => (await ready(ch, queue)) === 1, 'the message back in the queue');
  });

  it('fails a publish to a missing exchange at the publish (404), as RabbitMQ checks it there', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const tx = await clients.channel(conn);
    await txSelect(tx);
    tx.sendToQueue(queue, Buffer.from('before'));
    tx.publish(uniqueName('no-such-exchange'), 'k', Buffer.from('nowhere'));
    const err = await firstError(tx);
    expect(err.code).toBe(404);
    // the channel closed with its transaction: nothing of it was applied
    expect(await ready(ch, queue)).toBe(0);
  });

  it('returns an unroutable mandatory publish at commit, before commit-ok', async () => {
    const { ch } = await clients.open();
    const events: string[] = [];
    ch.on('return', (m: { content: Buffer }) => events.push(`return ${m.content.toString()}`));
    await txSelect(ch);
    ch.publish('amq.direct', uniqueName('nowhere'), Buffer.from('lost'), { mandatory: true });
    await sleep(50);
    expect(events).toEqual([]);
    await txCommit(ch);
    events.push('commit-ok');
    expect(events).toEqual(['return lost', 'commit-ok']);
  });

  it('fails the commit with 406 "partial tx completion" when a queue refused a publish (x-overflow reject-publish)', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    await txSelect(ch);
    ch.sendToQueue(queue, Buffer.from('fits'));
    ch.sendToQueue(queue, Buffer.from('refused'));
    const err = await expectCode(txCommit(ch), 406);
    expect(err.message).toContain('partial tx completion');
  });

  it('refuses commit and rollback on a channel that is not transactional with 406', async () => {
    const { conn } = await clients.open();
    expect((await expectCode(txCommit(await clients.channel(conn)), 406)).message).toContain('channel is not transactional');
    expect((await expectCode(txRollback(await clients.channel(conn)), 406)).message).toContain('channel is not transactional');
  });
});

describe.skipIf(isExternalBroker)('transactions and durability', () => {
  it('answers commit-ok only once the committed persistent messages are on disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-tx-'));
    const disk = new GatedDisk();
    const b = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } }, { disk });
    try {
      await b.start();
      const conn = await amqp.connect(b.url('amqp'));
      const ch = await conn.createChannel();
      await ch.assertQueue('tx-durable', { durable: true });
      await txSelect(ch);
      ch.sendToQueue('tx-durable', Buffer.from('p1'), { persistent: true });
      ch.sendToQueue('tx-durable', Buffer.from('p2'), { persistent: true });
      disk.closeGate();
      let committed = false;
      const commit = txCommit(ch).then(() => {
        committed = true;
      });
      await disk.held(1);
      await sleep(100);
      expect(committed).toBe(false);
      disk.openGate();
      await commit;
      expect(committed).toBe(true);
      expect((await ch.checkQueue('tx-durable')).messageCount).toBe(2);
      await conn.close();
    } finally {
      disk.openGate();
      await b.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function bodiesOf(messages: readonly { content: Buffer }[]): string[] {
  return messages.map((m) => m.content.toString());
}

async function waitGet(ch: Channel, queue: string) {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(queue);
    if (m) return m;
    await sleep(10);
  }
  return undefined;
}
