/**
 * Large persistent messages over AMQP with amqplib: a body's checksum is computed once on its
 * way through the store (the store's checksummedBytes counter), and a consumer's unacked body
 * bytes are bounded (CONSUMER_UNACKED_BYTES) whatever its prefetch count, so a burst of 1 MiB
 * messages to a consumer with a large prefetch does not put all of them in flight at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import { CONSUMER_UNACKED_BYTES } from '../../../src/core/delivery/consumer.js';
import type { FileStore } from '../../../src/store/file-store.js';
import { sleep, waitFor } from '../../helpers/amqp-clients.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function open(): Promise<{ broker: Broker; conn: ChannelModel }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-large-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
  await broker.start();
  cleanups.push(() => broker.stop());
  const { host, port } = broker.address('amqp');
  const conn = await amqp.connect(`amqp://guest:guest@${host}:${port}`);
  cleanups.push(() => conn.close());
  return { broker, conn };
}

const journalOf = (broker: Broker) => broker.core.vhosts.get('/')!.store!.messages as FileStore;

describe('large messages', () => {
  it('a persistent 256 KiB body is checksummed once between publish and delivery', async () => {
    const { broker, conn } = await open();
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('big', { durable: true });
    const body = Buffer.alloc(256 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const before = journalOf(broker).metrics().checksummedBytes;
    await new Promise<void>((resolve, reject) => ch.sendToQueue('big', body, { persistent: true }, (e: unknown) => (e ? reject(e) : resolve())));
    const got = await new Promise<ConsumeMessage>((resolve) => void ch.consume('big', (m) => m && resolve(m), { noAck: true }));
    expect(got.content.equals(body)).toBe(true);
    const scanned = journalOf(broker).metrics().checksummedBytes - before;
    // one pass over the record (header, names, properties and body), not one per hop
    expect(scanned).toBeGreaterThanOrEqual(body.length);
    expect(scanned).toBeLessThan(body.length + 1024);
  });

  it('a consumer with prefetch 1000 holds at most CONSUMER_UNACKED_BYTES of 1 MiB bodies unacked', async () => {
    const { conn } = await open();
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('burst', { durable: true });
    const body = Buffer.alloc(1 << 20, 0x42);
    const n = 40;
    for (let i = 0; i < n; i++) pub.sendToQueue('burst', body, { persistent: true });
    await pub.waitForConfirms();
    const sub = await conn.createChannel();
    await sub.prefetch(1000);
    const held: ConsumeMessage[] = [];
    await sub.consume('burst', (m) => m && held.push(m));
    const limit = Math.ceil(CONSUMER_UNACKED_BYTES / body.length) + 1;
    await waitFor(() => held.length >= limit - 1, 'the first deliveries', 10_000);
    await sleep(300);
    expect(held.length).toBeLessThanOrEqual(limit);
    // settling frees the credit: everything arrives
    let acked = 0;
    while (acked < n) {
      await waitFor(() => held.length > acked, `delivery ${acked + 1}`, 10_000);
      sub.ack(held[acked++]);
    }
    expect(held.every((m) => m.content.equals(body))).toBe(true);
  });
});
