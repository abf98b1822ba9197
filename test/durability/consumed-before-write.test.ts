/**
 * A persistent message consumed and acknowledged on every queue before its journal record is
 * written is left out of the write (src/store/elision.ts), and its confirm still waits for the
 * round it belongs to. The other side of that rule, with amqplib against a broker whose
 * fdatasyncs wait behind a gate (test/helpers/gated-disk.ts): a message delivered but not
 * acked, acked on one of its two queues only, requeued or dead-lettered is written, is not
 * confirmed while its sync is held, and comes back after a restart; a quorum queue's messages
 * are always written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import type { FileStore } from '../../src/store/file-store.js';
import { GatedDisk } from '../helpers/gated-disk.js';
import { sleep, waitFor } from '../helpers/amqp-clients.js';

/** How long a confirm is given to (wrongly) arrive while its sync is held. */
const EARLY_WINDOW_MS = 150;
const body = (tag: number): Buffer => Buffer.alloc(64 * 1024, tag);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Running {
  broker: Broker;
  disk: GatedDisk;
  conn: ChannelModel;
  pub: ConfirmChannel;
  sub: Channel;
}

async function start(dataDir?: string): Promise<Running & { dataDir: string }> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'warren-elision-')));
  if (dataDir === undefined) cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const disk = new GatedDisk();
  const broker = new Broker({ dataDir: dir, log: { level: 'error' }, amqp: { port: 0, host: '127.0.0.1' }, plugins: { management: { enabled: false } } }, { disk });
  await broker.start();
  const stop = async () => {
    disk.openGate();
    await broker.stop();
  };
  cleanups.push(stop);
  const conn = await amqp.connect(broker.url('amqp'));
  cleanups.push(() => conn.close());
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  return { broker, disk, conn, pub, sub, dataDir: dir };
}

const elided = (broker: Broker): number => (broker.core.vhosts.get('/')!.store!.messages as FileStore).metrics().elided.records;

/** Publish persistently; the flag turns true on the broker's ack. */
function publish(pub: ConfirmChannel, exchange: string, key: string, content: Buffer): { confirmed: () => boolean; done: Promise<void> } {
  let confirmed = false;
  const done = new Promise<void>((resolve, reject) =>
    pub.publish(exchange, key, content, { persistent: true }, (e: unknown) => (e ? reject(new Error('nacked')) : ((confirmed = true), resolve()))),
  );
  return { confirmed: () => confirmed, done };
}

/** Hold round 1 (a first message) at its fdatasync, so that what follows waits for round 2. */
async function holdRound(r: Running, queue: string): Promise<{ done: Promise<void> }> {
  r.disk.closeGate();
  const first = publish(r.pub, '', queue, body(0));
  await r.disk.held(1);
  return first;
}

async function drain(sub: Channel, queue: string): Promise<Buffer[]> {
  const got: Buffer[] = [];
  for (;;) {
    const m = await sub.get(queue, { noAck: true });
    if (m === false) return got;
    got.push(m.content);
  }
}

describe('messages consumed before their write', () => {
  it('consumed and acked on their only queue: left out of the journal, confirmed with their round, gone after a restart', async () => {
    const r = await start();
    await r.pub.assertQueue('q', { durable: true });
    const first = await holdRound(r, 'q');
    const seen: ConsumeMessage[] = [];
    await r.sub.consume('q', (m) => {
      if (!m) return;
      seen.push(m);
      r.sub.ack(m);
    });
    const later = [1, 2, 3, 4].map((i) => publish(r.pub, '', 'q', body(i)));
    await waitFor(() => seen.length === 5, 'five deliveries, acked', 10_000);
    await sleep(EARLY_WINDOW_MS);
    // consumed, but their round is not synced (round 1 still holds): no confirm yet
    expect(later.some((p) => p.confirmed())).toBe(false);
    r.disk.openGate();
    await first.done;
    await Promise.all(later.map((p) => p.done));
    expect(seen.map((m) => m.content[0])).toEqual([0, 1, 2, 3, 4]);
    expect(elided(r.broker)).toBe(4);
    await r.conn.close();
    await r.broker.stop();
    const again = await start(r.dataDir);
    expect(await drain(again.sub, 'q')).toEqual([]);
  });

  it('consumed and acked on a quorum queue: written all the same (a quorum queue logs every message)', async () => {
    const r = await start();
    await r.pub.assertQueue('qq', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const first = await holdRound(r, 'qq');
    let acked = 0;
    await r.sub.consume('qq', (m) => {
      if (!m) return;
      r.sub.ack(m);
      acked++;
    });
    const later = [1, 2, 3].map((i) => publish(r.pub, '', 'qq', body(i)));
    await waitFor(() => acked === 4, 'four deliveries, acked', 10_000);
    r.disk.openGate();
    await Promise.all([first.done, ...later.map((p) => p.done)]);
    expect(elided(r.broker)).toBe(0);
  });

  it('delivered and not acked: written, and not confirmed while its sync is held', async () => {
    const r = await start();
    await r.pub.assertQueue('q', { durable: true });
    const first = await holdRound(r, 'q');
    const seen: ConsumeMessage[] = [];
    await r.sub.consume('q', (m) => m && seen.push(m));
    const p = publish(r.pub, '', 'q', body(1));
    await waitFor(() => seen.length === 2, 'two deliveries', 10_000);
    r.disk.openGate();
    r.disk.closeGate();
    await r.disk.held(1); // round 2 written, its sync held
    await sleep(EARLY_WINDOW_MS);
    expect(p.confirmed(), 'confirmed while neither durable nor acked').toBe(false);
    r.disk.openGate();
    await first.done;
    await p.done;
    expect(elided(r.broker)).toBe(0);
  });

  it('acked on one of its two queues only: written, not confirmed early, still on the other queue after a restart', async () => {
    const r = await start();
    await r.pub.assertExchange('both', 'fanout', { durable: true });
    for (const q of ['q1', 'q2']) {
      await r.pub.assertQueue(q, { durable: true });
      await r.pub.bindQueue(q, 'both', '');
    }
    r.disk.closeGate();
    const first = publish(r.pub, 'both', '', body(0));
    await r.disk.held(1);
    let acked = 0;
    await r.sub.consume('q1', (m) => {
      if (!m) return;
      r.sub.ack(m);
      acked++;
    });
    const p = publish(r.pub, 'both', '', body(1));
    await waitFor(() => acked === 2, 'both acked on q1', 10_000);
    r.disk.openGate();
    r.disk.closeGate();
    await r.disk.held(1);
    await sleep(EARLY_WINDOW_MS);
    expect(p.confirmed(), 'confirmed while acked on one queue only and not durable').toBe(false);
    r.disk.openGate();
    await Promise.all([first.done, p.done]);
    expect(elided(r.broker)).toBe(0);
    await r.conn.close();
    await r.broker.stop();
    const again = await start(r.dataDir);
    expect((await drain(again.sub, 'q2')).map((b) => [b[0], b.length])).toEqual([
      [0, 65536],
      [1, 65536],
    ]);
  });

  it('requeued, or rejected to a dead-letter queue, before its write: written, and back after a restart', async () => {
    const r = await start();
    await r.pub.assertQueue('dlq', { durable: true });
    await r.pub.assertQueue('q', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
    const first = await holdRound(r, 'q');
    const seen: ConsumeMessage[] = [];
    const { consumerTag } = await r.sub.consume('q', (m) => m && seen.push(m));
    const requeued = publish(r.pub, '', 'q', body(1));
    const rejected = publish(r.pub, '', 'q', body(2));
    await waitFor(() => seen.length === 3, 'three deliveries', 10_000);
    await r.sub.cancel(consumerTag);
    r.sub.ack(seen[0]);
    r.sub.nack(seen[1], false, true); // requeue
    r.sub.nack(seen[2], false, false); // dead-letter
    await sleep(50);
    r.disk.openGate();
    await Promise.all([first.done, requeued.done, rejected.done]);
    expect(elided(r.broker)).toBe(0);
    await r.conn.close();
    await r.broker.stop();
    const again = await start(r.dataDir);
    expect((await drain(again.sub, 'q')).map((b) => b.equals(body(1)))).toEqual([true]);
    expect((await drain(again.sub, 'dlq')).map((b) => b.equals(body(2)))).toEqual([true]);
  });
});
