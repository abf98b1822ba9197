/**
 * Bodies above `large_message_threshold` over AMQP with amqplib, in process (the threshold set
 * low so bodies of a few MiB take the path): they are written to the journal as their frames
 * arrive and streamed back from it for each delivery, and everything a queue does with a
 * message still works on them — confirms, requeue and redelivery, basic.get, mandatory returns,
 * dead-lettering (the dead-lettered copy names the same stored bytes), TTL, length limits,
 * fan-out to several queues, transient messages and non-durable queues, and a restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type GetMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import type { FileStore } from '../../../src/store/file-store.js';
import { waitFor } from '../../helpers/amqp-clients.js';

const MiB = 1024 * 1024;
const THRESHOLD = MiB;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function start(dataDir?: string): Promise<{ broker: Broker; conn: ChannelModel; dataDir: string }> {
  if (dataDir === undefined) {
    dataDir = await mkdtemp(join(tmpdir(), 'warren-streamed-'));
    const dir = dataDir;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  }
  const broker = new Broker({ dataDir, log: { level: 'warn' }, largeMessageThreshold: THRESHOLD, amqp: { port: 0, host: '127.0.0.1' } });
  await broker.start();
  cleanups.push(() => broker.stop());
  const { host, port } = broker.address('amqp');
  const conn = await amqp.connect(`amqp://guest:guest@${host}:${port}`);
  cleanups.push(() => conn.close());
  return { broker, conn, dataDir };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const journalOf = (broker: Broker) => broker.core.vhosts.get('/')!.store!.messages as FileStore;
/** BODY_PART records appended so far (the store counts them among its "other" records) */
const partRecords = (broker: Broker): number => journalOf(broker).metrics().records.other;

function publish(ch: ConfirmChannel, exchange: string, key: string, body: Buffer, options: amqp.Options.Publish = {}): Promise<void> {
  return new Promise((resolve, reject) => ch.publish(exchange, key, body, { persistent: true, ...options }, (e: unknown) => (e ? reject(e) : resolve())));
}

function next(ch: amqp.Channel, queue: string, options: amqp.Options.Consume = {}): Promise<ConsumeMessage> {
  return new Promise((resolve, reject) => {
    ch.consume(queue, (m) => (m ? resolve(m) : reject(new Error('cancelled'))), options)
      .then((ok) => cleanups.push(() => ch.cancel(ok.consumerTag)))
      .catch(reject);
  });
}

describe('AMQP bodies streamed through the journal', { timeout: 60_000 }, () => {
  it('round trip with confirms: the body is not in memory, the delivery is intact, the store names it by its parts', async () => {
    const { broker, conn } = await start();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('big', { durable: true });
    const body = randomBytes(5 * MiB + 17);
    await publish(ch, '', 'big', body, { headers: { 'x-kind': 'doc' }, messageId: 'm1' });
    // written as parts of 256 KiB while its frames arrived
    expect(partRecords(broker)).toBe(Math.ceil(body.length / (256 * 1024)));
    const got = await next(ch, 'big');
    expect(got.content.length).toBe(body.length);
    expect(sha(got.content)).toBe(sha(body));
    expect(got.properties.headers?.['x-kind']).toBe('doc');
    expect(got.properties.messageId).toBe('m1');
    ch.ack(got);
    expect(journalOf(broker).metrics().userPayloadBytes).toBeGreaterThanOrEqual(body.length);
  });

  it('requeue, redelivery and basic.get; a body just below the threshold still goes the ordinary way', async () => {
    const { broker, conn } = await start();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('rq', { durable: true });
    const big = randomBytes(3 * MiB);
    const small = randomBytes(THRESHOLD);
    await publish(ch, '', 'rq', big);
    const parts = partRecords(broker);
    expect(parts).toBe(12);
    await publish(ch, '', 'rq', small);
    expect(partRecords(broker)).toBe(parts);
    const first = (await ch.get('rq', { noAck: false })) as GetMessage;
    expect(sha(first.content)).toBe(sha(big));
    ch.nack(first, false, true); // back to the head
    const consumer = await conn.createChannel();
    await consumer.prefetch(1);
    const again = await next(consumer, 'rq');
    expect(again.fields.redelivered).toBe(true);
    expect(sha(again.content)).toBe(sha(big));
    expect((await ch.checkQueue('rq')).messageCount).toBe(1); // prefetch 1: the small one waits
    consumer.ack(again);
    await waitFor(async () => (await ch.checkQueue('rq')).messageCount === 0, 'the small body delivered', 10_000);
  });

  it('fan-out, dead-lettering by TTL and by reject, a length limit, a mandatory return: the same stored bytes everywhere', async () => {
    const { broker, conn } = await start();
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('fan', 'fanout', { durable: true });
    await ch.assertExchange('dlx', 'fanout', { durable: true });
    await ch.assertQueue('dead', { durable: true });
    await ch.bindQueue('dead', 'dlx', '');
    await ch.assertQueue('a', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx' } });
    await ch.assertQueue('ttl', { durable: true, arguments: { 'x-message-ttl': 50, 'x-dead-letter-exchange': 'dlx' } });
    await ch.assertQueue('short', { durable: false, arguments: { 'x-max-length': 1 } });
    for (const q of ['a', 'ttl', 'short']) await ch.bindQueue(q, 'fan', '');
    const body = randomBytes(2 * MiB + 3);
    const second = randomBytes(2 * MiB);
    await publish(ch, 'fan', '', body);
    await publish(ch, 'fan', '', second, { persistent: false }); // pushes `body` out of 'short' (drop-head)
    const fromShort = await next(ch, 'short', { noAck: true });
    expect(sha(fromShort.content)).toBe(sha(second));
    // the TTL queue dead-letters both into 'dead'
    await waitFor(async () => (await ch.checkQueue('dead')).messageCount === 2, 'two dead-lettered by TTL', 10_000);
    const fromA = (await ch.get('a', { noAck: false })) as GetMessage;
    expect(sha(fromA.content)).toBe(sha(body));
    ch.reject(fromA, false); // dead-lettered too
    await waitFor(async () => (await ch.checkQueue('dead')).messageCount === 3, 'the rejected one dead-lettered', 10_000);
    const dead: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const m = (await ch.get('dead', { noAck: true })) as GetMessage;
      expect(m.properties.headers?.['x-death']).toBeDefined();
      dead.push(m.content);
    }
    expect(dead.map(sha).sort()).toEqual([sha(body), sha(body), sha(second)].sort());
    // a mandatory publish nobody takes comes back whole
    const returned = new Promise<amqp.Message>((resolve) => ch.once('return', resolve));
    await publish(ch, '', 'nowhere', body, { mandatory: true });
    expect(sha((await returned).content)).toBe(sha(body));
    // the journal holds one copy of each body, whatever the number of queues it went to
    expect(journalOf(broker).metrics().userPayloadBytes).toBeLessThan(2 * (body.length + second.length) + MiB);
  });

  it('a persistent body in a durable queue survives a restart and is delivered from the journal', async () => {
    const first = await start();
    const ch = await first.conn.createConfirmChannel();
    await ch.assertQueue('keep', { durable: true });
    const body = randomBytes(4 * MiB + 1);
    await publish(ch, '', 'keep', body);
    await first.conn.close();
    await first.broker.stop();
    const second = await start(first.dataDir);
    const ch2 = await second.conn.createChannel();
    const got = await next(ch2, 'keep');
    expect(sha(got.content)).toBe(sha(body));
    ch2.ack(got);
  });
});
