/**
 * A body acked while the journal is still writing it is not recycled under the write. Large
 * AMQP bodies are recycled on the consumer's ack only once the journal is durable past the
 * record written with the body (`Message.journalLsn`, src/core/body-pool.ts rule 4); until its
 * round is done, a group-commit write may still be reading the body. Here the journal's writes are slowed (test/helpers/slow-disk.ts), so that
 * acks arrive while the writes holding their bodies wait, and the pool's poison is on: a body
 * made reusable too soon is written to the journal as 0xDB, whose checksum then fails when the
 * journal is scanned. Thousands of 64-256 KiB messages with confirms outstanding, one queue
 * acked at once and one kept; then the broker restarts without its clean-shutdown marker (so
 * every segment is scanned and every checksum checked) and every kept message must come back
 * intact, with no damage reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/index.js';
import { createLogger } from '../../src/log/index.js';
import type { Disk } from '../../src/store/disk/disk.js';
import { poisonBodyPool, recycledCount, recycledPast } from '../helpers/body-pool-watch.js';
import { SeedLedger } from '../helpers/seeded-bodies.js';
import { SlowDisk } from '../helpers/slow-disk.js';

const MESSAGES = 2000;
const KEPT_EVERY = 5;
const WINDOW = 64;

const cleanups: (() => Promise<unknown>)[] = [];
const restorePoison = poisonBodyPool();
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  restorePoison();
});

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

async function start(dataDir: string, disk?: Disk): Promise<{ broker: Broker; logs: Line[] }> {
  const logs: Line[] = [];
  const logger = createLogger({ level: 'info', format: 'json', output: { write: (line: string) => logs.push(JSON.parse(line) as Line) } });
  const broker = new Broker({ dataDir, amqp: { port: 0, host: '127.0.0.1' }, store: { segmentSize: 16 * 1024 * 1024 } }, { logger, disk });
  await broker.start();
  cleanups.push(() => broker.stop());
  return { broker, logs };
}

describe('body pool and the journal (poison on)', () => {
  it('bodies acked while their group-commit write is in flight are not recycled under it: every kept message recovers intact', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-body-pool-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const disk = new SlowDisk((path) => path.endsWith('.wj'));
    // slow enough that several rounds wait behind each other, fast enough for a short test
    disk.bytesPerSecond = 96 * 1024 * 1024;
    const first = await start(dataDir, disk);
    const conn = await amqp.connect(first.broker.url('amqp'));
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('j.acked', { durable: true });
    await pub.assertQueue('j.kept', { durable: true });
    const sub = await conn.createChannel();
    await sub.prefetch(32);
    const acked = new SeedLedger(10_000_000);
    const kept = new SeedLedger(20_000_000);
    let ackedCount = 0;
    const allAcked = new Promise<void>((resolve, reject) =>
      void sub.consume('j.acked', (msg) => {
        if (msg === null) return;
        try {
          acked.receive(msg.content, 'j.acked delivery');
          sub.ack(msg);
          if (++ackedCount === MESSAGES - MESSAGES / KEPT_EVERY) resolve();
        } catch (e) {
          reject(e);
        }
      }),
    );
    const before = recycledCount();
    const writesBefore = disk.writes;
    // confirms outstanding: up to WINDOW publishes ahead of their confirms
    let outstanding = 0;
    let wake: (() => void) | null = null;
    let failed: Error | null = null;
    for (let i = 0; i < MESSAGES; i++) {
      const toKept = i % KEPT_EVERY === 0;
      const body = (toKept ? kept : acked).body(256 * 1024);
      outstanding++;
      pub.publish('', toKept ? 'j.kept' : 'j.acked', body, { persistent: true }, (err: unknown) => {
        if (err) failed = new Error('publish nacked');
        outstanding--;
        wake?.();
      });
      while (outstanding >= WINDOW) await new Promise<void>((r) => (wake = r));
      if (failed) throw failed;
    }
    await pub.waitForConfirms();
    await allAcked;
    acked.expectAllReceived();
    expect(disk.writes - writesBefore, 'group-commit writes went through the slowed disk').toBeGreaterThan(10);
    await recycledPast(before, 'acks on j.acked');
    await conn.close();
    await first.broker.stop();
    // a scan of every segment, every record's checksum checked: as after a crash
    await rm(join(dataDir, 'vhosts', '1', 'clean-shutdown'));

    const second = await start(dataDir);
    const problems = second.logs.filter((l) => l.level === 'error' || l.level === 'warn' || /damaged|corrupt|torn/.test(l.msg));
    expect(problems).toEqual([]);
    const again = await amqp.connect(second.broker.url('amqp'));
    const ch = await again.createChannel();
    expect((await ch.checkQueue('j.acked')).messageCount).toBe(0);
    const recovered = new SeedLedger(0);
    for (;;) {
      const m = await ch.get('j.kept', { noAck: true });
      if (m === false) break;
      recovered.receive(m.content, 'recovered j.kept message');
    }
    expect(recovered.received).toEqual(kept.sent); // in order, each once
    await again.close();
  }, 60_000);
});
