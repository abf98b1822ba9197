/**
 * Key compaction (beyond RabbitMQ, Kafka's log compaction): only the newest
 * message per key stays readable, tombstones remove a key after their grace period, the work
 * happens in a worker thread while appends and readers go on, and readers during a run see a
 * consistent log.
 */
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/amqp-clients.js';
import { STREAM, connect, dataDir, publishAll, reader, streamOf, withBroker } from './helpers.js';
import type { Broker } from '../../src/index.js';

const streamsOf = (b: Broker) => b.core.vhosts.get('/')!.store!.streams!;
const keyOf = (m: ConsumeMessage) => String(m.properties.headers?.key);

/** Publish `versions` rounds over `keys` keys: value `k<key>-v<round>`, header key = `k<key>`. */
async function publishVersions(conn: Parameters<typeof publishAll>[0], queue: string, keys: number, versions: number, pad = 0): Promise<Map<number, string>> {
  const byOffset = new Map<number, string>();
  const ch = await conn.createConfirmChannel();
  let offset = 0;
  for (let v = 0; v < versions; v++) {
    for (let k = 0; k < keys; k++) {
      const value = `k${k}-v${v}${'.'.repeat(pad)}`;
      ch.sendToQueue(queue, Buffer.from(value), { headers: { key: `k${k}` } });
      byOffset.set(offset++, value);
    }
    await ch.waitForConfirms();
  }
  await ch.close();
  return byOffset;
}

describe('key compaction', () => {
  it('keeps only the newest value per key (key from a header), offsets preserved with gaps', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      const args = { ...STREAM, 'x-stream-compaction': 'key', 'x-stream-compaction-key-header': 'key', 'x-stream-max-segment-size-bytes': 2000 };
      await ch.assertQueue('state', { durable: true, arguments: args });
      const byOffset = await publishVersions(conn, 'state', 10, 8);
      const q = streamOf(b, 'state');
      q.log.rollover(); // seal the active segment too, so every record is compaction input
      await publishVersions(conn, 'state', 0, 0);
      await ch.assertQueue('state', { durable: true, arguments: args });
      await streamsOf(b).compactNow(q.streamId);
      // sealing segments may already have started runs on its own (dirty ratio ≥ 0.5)
      expect(q.log.metrics.compactionRecordsRemoved).toBeGreaterThan(0);
      const r = await reader(conn, 'state', { 'x-stream-offset': 'first' });
      await r.waitFor(10);
      await sleep(150);
      expect(r.got).toHaveLength(10);
      expect(r.texts().sort()).toEqual(Array.from({ length: 10 }, (_, k) => `k${k}-v7`).sort());
      // the survivors are the newest records, at their original offsets
      for (const m of r.got) expect(byOffset.get(m.properties.headers?.['x-stream-offset'] as number)).toBe(m.content.toString());
      expect(r.offsets()).toEqual([...r.offsets()].sort((x, y) => x - y));
      expect(q.log.metrics.compactionRuns).toBeGreaterThanOrEqual(1);
      expect(q.log.metrics.uncleanable).toBeNull();
    });
  });

  it('uses the routing key by default, and a tombstone (empty body) removes a key after the grace period', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('devices', { durable: true, arguments: { ...STREAM, 'x-stream-compaction': 'key', 'x-stream-tombstone-retention': '1s', 'x-stream-max-segment-size-bytes': 1500 } });
      await ch.bindQueue('devices', 'amq.topic', 'device.#');
      const pub = await conn.createConfirmChannel();
      for (let v = 0; v < 5; v++) for (const d of ['a', 'b', 'c']) pub.publish('amq.topic', `device.${d}`, Buffer.from(`${d}${v}`));
      pub.publish('amq.topic', 'device.b', Buffer.alloc(0)); // delete b
      await pub.waitForConfirms();
      const q = streamOf(b, 'devices');
      q.log.rollover();
      pub.publish('amq.topic', 'device.z', Buffer.from('z0')); // something in the new active segment
      await pub.waitForConfirms();
      await streamsOf(b).compactNow(q.streamId);
      const within = await reader(conn, 'devices', { 'x-stream-offset': 'first' });
      await within.waitFor(4);
      await sleep(100);
      // within the grace period the tombstone is still there, so readers learn of the deletion
      expect(within.got.map((m) => `${m.fields.routingKey}=${m.content.toString()}`).sort()).toEqual(['device.a=a4', 'device.b=', 'device.c=c4', 'device.z=z0']);
      await within.ch.close();
      await sleep(1100);
      await streamsOf(b).compactNow(q.streamId);
      const after = await reader(conn, 'devices', { 'x-stream-offset': 'first' });
      await after.waitFor(3);
      await sleep(100);
      expect(after.got.map((m) => m.fields.routingKey).sort()).toEqual(['device.a', 'device.c', 'device.z']);
    });
  });

  it('runs beside appends and readers: a reader during compaction sees a consistent log; the result survives a restart', async () => {
    const dir = dataDir();
    const args = { ...STREAM, 'x-stream-compaction': 'key', 'x-stream-compaction-key-header': 'key', 'x-stream-max-segment-size-bytes': 1024 * 1024 };
    let published = new Map<number, string>();
    await withBroker(dir, async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue('busy', { durable: true, arguments: args });
      published = await publishVersions(conn, 'busy', 50, 40, 40); // 2,000 records in one segment
      const q = streamOf(b, 'busy');
      // a slow reader from the start: one message in flight, each acked a millisecond later
      const slow = await reader(conn, 'busy', { 'x-stream-offset': 'first' }, { prefetch: 1, ack: false });
      const ackLater = setInterval(() => {
        const m = slow.got.at(-1);
        if (m && !(m as { acked?: boolean }).acked) {
          (m as { acked?: boolean }).acked = true;
          slow.ch.ack(m);
        }
      }, 1);
      await slow.waitFor(50);
      // seal the segment: compaction starts (dirty ratio 1) while the reader is at ~50 and appends go on
      const original = q.log.segments[0];
      q.log.rollover();
      const more = publishVersions(conn, 'busy', 0, 0);
      await waitFor(() => original.removed, 'the compaction swap', 10_000);
      const readAtSwap = slow.got.length;
      await waitFor(() => q.log.metrics.compactionRuns > 0, 'the compaction run', 10_000);
      await more;
      expect(q.log.metrics.compactionRecordsRemoved).toBeGreaterThan(1500);
      await waitFor(() => slow.got.length > 0 && slow.offsets().at(-1) === 1999, 'the slow reader to reach the newest values', 10_000);
      expect(readAtSwap).toBeLessThan(slow.got.length); // it was reading before and after the swap
      const seen = slow.offsets();
      // consistent: strictly increasing offsets, each message exactly what was published at its offset
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
      for (const m of slow.got) expect(m.content.toString()).toBe(published.get(m.properties.headers?.['x-stream-offset'] as number));
      // it skipped what compaction removed under it, and ends up with the newest value of every key
      expect(slow.got.length).toBeLessThan(2000);
      const last = new Map<string, string>();
      for (const m of slow.got) last.set(keyOf(m), m.content.toString());
      for (let k = 0; k < 50; k++) expect(last.get(`k${k}`)).toMatch(new RegExp(`^k${k}-v39`));
      clearInterval(ackLater);
    });
    await withBroker(dir, async (_b, url) => {
      const conn = await connect(url);
      const r = await reader(conn, 'busy', { 'x-stream-offset': 'first' });
      await r.waitFor(50);
      await sleep(150);
      expect(r.got).toHaveLength(50);
      for (const m of r.got) expect(m.content.toString()).toMatch(/-v39/);
    });
  });
});
