/**
 * Retention, stored offsets of named consumers and single active consumer, through amqplib
 * against an in-process Warren; and what survives a restart.
 */
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/amqp-clients.js';
import { STREAM, brokerOn, connect, dataDir, publishAll, range, reader, streamOf, withBroker } from './helpers.js';

const body = (i: number) => `${String(i).padStart(4, '0')}${'x'.repeat(196)}`; // 200 bytes

describe('retention', () => {
  it('x-max-length-bytes drops whole segments, oldest first, never the active one; a new reader starts at the first kept offset', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('capped', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 4000, 'x-max-length-bytes': 10_000 } });
      for (let k = 0; k < 10; k++) await publishAll(conn, 'capped', Array.from({ length: 20 }, (_, i) => body(k * 20 + i)));
      const q = streamOf(b, 'capped');
      await waitFor(() => q.log.firstOffset > 0, 'retention to drop the oldest segments');
      const log = q.log;
      // whole segments: the first offset kept is a segment base; at most one segment over the limit
      expect(log.segments[0].base).toBe(log.firstOffset);
      expect(log.diskBytes).toBeLessThanOrEqual(10_000 + 4000);
      expect(log.segments.length).toBeGreaterThan(1);
      expect(log.metrics.retentionSegmentsDeleted).toBeGreaterThan(0);
      const r = await reader(conn, 'capped', { 'x-stream-offset': 'first' });
      await r.waitFor(200 - log.firstOffset);
      expect(r.offsets()[0]).toBe(log.firstOffset);
      expect(r.offsets().at(-1)).toBe(199);
      // a consumer asking for an offset that retention removed starts at the first one kept
      const old = await reader(conn, 'capped', { 'x-stream-offset': 3 });
      await old.waitFor(1);
      expect(old.offsets()[0]).toBe(log.firstOffset);
    });
  });

  it('x-max-age drops segments whose newest message is older than the age', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('aged', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 3000, 'x-max-age': '1s' } });
      await publishAll(conn, 'aged', range(0, 60).map((_, i) => body(i)));
      const q = streamOf(b, 'aged');
      expect(q.log.firstOffset).toBe(0);
      await sleep(1200);
      await publishAll(conn, 'aged', range(60, 40).map((_, i) => body(60 + i)));
      const streams = b.core.vhosts.get('/')!.store!.streams!;
      await streams.maintain(Date.now());
      // every segment of the first batch is older than 1 s; the newest segment with records stays
      expect(q.log.firstOffset).toBeGreaterThanOrEqual(60);
      const r = await reader(conn, 'aged', { 'x-stream-offset': 'first' });
      await r.waitFor(100 - q.log.firstOffset);
      expect(r.texts().every((t) => Number(t.slice(0, 4)) >= 60)).toBe(true);
    });
  });

  it('a policy sets retention too (max-length-bytes)', async () => {
    await withBroker(dataDir(), async (b, url) => {
      b.core.vhosts.get('/')!.setPolicy({ name: 'cap', vhost: '/', pattern: '^pol', applyTo: 'streams', priority: 0, definition: { 'max-length-bytes': 6000 } });
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('policed', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 3000 } });
      for (let k = 0; k < 5; k++) await publishAll(conn, 'policed', Array.from({ length: 20 }, (_, i) => body(k * 20 + i)));
      const q = streamOf(b, 'policed');
      await waitFor(() => q.log.firstOffset > 0, 'the policy retention');
      expect(q.log.diskBytes).toBeLessThanOrEqual(6000 + 3000);
    });
  });
});

describe('named consumers: stored offsets (beyond RabbitMQ)', () => {
  it('resume after the last acked offset on reconnect, and after a restart', async () => {
    const dir = dataDir();
    await withBroker(dir, async (_b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('orders', { durable: true, arguments: STREAM });
      await publishAll(conn, 'orders', range(0, 30));
      // acks 0..9, leaves 10..14 unacked, then its channel closes
      const first = await reader(conn, 'orders', { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'billing' }, { prefetch: 15, ack: false });
      await first.waitFor(15);
      first.ch.ack(first.got[9], true);
      first.ch.ack(first.got[12]); // out of order: does not move the committed offset past 9
      await sleep(50);
      await first.ch.close();
      const second = await reader(conn, 'orders', { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'billing' }, { prefetch: 5 });
      await second.waitFor(20);
      expect(second.offsets()[0]).toBe(10);
      await second.ch.close();
      // another name is independent; no name: the x-stream-offset applies
      const other = await reader(conn, 'orders', { 'x-stream-offset': 25, 'x-stream-consumer-name': 'audit' });
      await other.waitFor(5);
      expect(other.offsets()[0]).toBe(25);
      await other.ch.close();
    });
    await withBroker(dir, async (b, url) => {
      expect(streamOf(b, 'orders').storedOffset('billing')).toBe(29);
      expect(streamOf(b, 'orders').storedOffset('audit')).toBe(29);
      const conn = await connect(url);
      await publishAll(conn, 'orders', ['after-restart']);
      const resumed = await reader(conn, 'orders', { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'billing' });
      await resumed.waitFor(1);
      await sleep(100);
      expect(resumed.offsets()).toEqual([30]);
      expect(resumed.texts()).toEqual(['after-restart']);
    });
  });

  it('basic.recover and nack count as handled: they do not hold the committed offset back', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('recovering', { durable: true, arguments: STREAM });
      await publishAll(conn, 'recovering', range(0, 20));
      const r = await reader(conn, 'recovering', { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'r' }, { prefetch: 5, ack: false });
      await r.waitFor(5);
      await r.ch.recover(); // a stream never redelivers: the credit comes back, 5..9 follow
      await r.waitFor(10);
      r.ch.nack(r.got[9], true, true);
      await r.waitFor(15);
      r.ch.ack(r.got[14], true);
      await waitFor(() => streamOf(b, 'recovering').storedOffset('r') === 14, 'the committed offset to reach 14');
      expect(r.offsets().slice(0, 15)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    });
  });

  it('an offset committed explicitly is where the named consumer resumes', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('explicit', { durable: true, arguments: STREAM });
      await publishAll(conn, 'explicit', range(0, 10));
      streamOf(b, 'explicit').commitOffset('batch-job', 6);
      const r = await reader(conn, 'explicit', { 'x-stream-consumer-name': 'batch-job' });
      await r.waitFor(3);
      expect(r.offsets()).toEqual([7, 8, 9]);
    });
  });
});

describe('single active consumer on a stream (beyond RabbitMQ 3.10 over AMQP)', () => {
  it('one member of a named group reads at a time; the successor resumes after what the first acked', async () => {
    await withBroker(dataDir(), async (_b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('sac', { durable: true, arguments: { ...STREAM, 'x-single-active-consumer': true } });
      await publishAll(conn, 'sac', range(0, 40));
      const args = { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'workers' };
      const a = await reader(conn, 'sac', args, { prefetch: 10, ack: false });
      const b2 = await reader(conn, 'sac', args, { prefetch: 10 });
      await a.waitFor(10);
      await sleep(100);
      expect(b2.got).toHaveLength(0);
      a.ch.ack(a.got[6], true); // 0..6 done; 7..9 were delivered but not acked
      await sleep(50);
      await a.ch.close();
      await b2.waitFor(33);
      expect(b2.offsets()[0]).toBe(7);
      expect(b2.offsets().at(-1)).toBe(39);
      // a consumer of another group is active at the same time
      const c = await reader(conn, 'sac', { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'others' });
      await c.waitFor(40);
    });
  });
});

describe('a stream across a restart', () => {
  it('keeps its messages, and offsets continue after a clean restart (loaded from index files, no scan)', async () => {
    const dir = dataDir();
    await withBroker(dir, async (_b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('durable-log', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 2000 } });
      await publishAll(conn, 'durable-log', range(0, 50));
    });
    await withBroker(dir, async (b, url) => {
      const q = streamOf(b, 'durable-log');
      expect(q.messageCount).toBe(50);
      expect(q.log.recovery?.scanned).toBe(0); // a clean stop wrote every index: nothing to scan
      const conn = await connect(url);
      await publishAll(conn, 'durable-log', range(50, 5));
      const r = await reader(conn, 'durable-log', { 'x-stream-offset': 'first' });
      await r.waitFor(55);
      expect(r.texts()).toEqual(range(0, 55));
      expect(r.offsets()).toEqual(Array.from({ length: 55 }, (_, i) => i));
    });
  });

  it('keeps retention state: what retention removed stays removed', async () => {
    const dir = dataDir();
    let first = -1;
    await withBroker(dir, async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('retained-state', { durable: true, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 3000, 'x-max-length-bytes': 8000 } });
      for (let k = 0; k < 6; k++) await publishAll(conn, 'retained-state', Array.from({ length: 20 }, (_, i) => body(k * 20 + i)));
      await waitFor(() => streamOf(b, 'retained-state').log.firstOffset > 0, 'retention');
      first = streamOf(b, 'retained-state').log.firstOffset;
    });
    const b = brokerOn(dir);
    await b.start();
    try {
      const q = streamOf(b, 'retained-state');
      expect(q.log.firstOffset).toBe(first);
      expect(q.log.nextOffset).toBe(120);
    } finally {
      await b.stop();
    }
  });
});
