/**
 * A quorum queue with at-least-once dead-lettering keeps a dead-lettered message until its
 * copy is durable. The copy may land in another log than the source's record (here a stream,
 * whose fdatasync is separate from the journal's): if the source's ACK record reached the disk
 * first, a crash between the two syncs would lose the message. Only the stream's syncs are
 * held here; while they are, the source must still hold the message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import amqp from 'amqplib';
import { afterEach, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import { GatedDisk } from '../helpers/gated-disk.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

it('an at-least-once dead-letter into a stream leaves the source only once the stream copy is synced', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-qq-dlx-sync-'));
  const disk = new GatedDisk(undefined, (path) => path.includes(`${sep}streams${sep}`));
  const broker = new Broker({ dataDir, log: { level: 'error' }, amqp: { port: 0, host: '127.0.0.1' } }, { disk });
  await broker.start();
  const conn = await amqp.connect(broker.url('amqp'));
  cleanup = async () => {
    disk.openGate();
    await conn.close().catch(() => undefined);
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange('dlx', 'fanout', { durable: true });
  await ch.assertQueue('dead', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await ch.bindQueue('dead', 'dlx', '');
  await ch.assertQueue('work', {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' },
  });
  ch.sendToQueue('work', Buffer.from('poison'), { persistent: true });
  await ch.waitForConfirms();

  const source = () => broker.core.vhosts.get('/')!.queues.get('work')!;
  disk.closeGate();
  const got = await ch.get('work', { noAck: false });
  expect(got).not.toBe(false);
  ch.nack(got as amqp.GetMessage, false, false);
  await disk.held(1); // the stream's sync of the dead-lettered copy
  await sleep(150);
  // the copy is written but not synced: the source still holds (and stores) the message
  expect(source().deadLetterBacklog).toBe(1);
  disk.openGate();
  for (let i = 0; i < 100 && source().deadLetterBacklog > 0; i++) await sleep(20);
  expect(source().deadLetterBacklog).toBe(0);
  expect(source().messageCount).toBe(0);
});
