/**
 * Bad input: a compaction key longer than the record format's u16 key length (65535 bytes,
 * docs/streams.md). An AMQP header value may be far longer (amqplib will not encode one, so a
 * raw socket sends it). The stream refuses that message with a nack, as a full queue does
 * (x-overflow reject-publish); the connection stays open and the stream goes on with no gap.
 */
import { describe, expect, it } from 'vitest';
import { ArgWriter, methodFrame, publishFrames, type MethodId } from '../helpers/amqp-frames.js';
import { RawAmqpClient } from '../helpers/raw-amqp-client.js';
import { STREAM, connect, dataDir, reader, streamOf, withBroker } from './helpers.js';

const confirmSelect: MethodId = [85, 10];
const confirmSelectOk: MethodId = [85, 11];
const basicAck: MethodId = [60, 80];
const basicNack: MethodId = [60, 120];

describe('compaction key longer than 65535 bytes', () => {
  it('is nacked; the connection and the stream carry on, offsets without a gap', async () => {
    await withBroker(dataDir(), async (b, url) => {
      const conn = await connect(url);
      const ch = await conn.createChannel();
      const args = { ...STREAM, 'x-stream-compaction': 'key', 'x-stream-compaction-key-header': 'key' };
      await ch.assertQueue('long-keys', { durable: true, arguments: args });
      const { hostname, port } = new URL(url);
      const raw = await RawAmqpClient.openHandshaken(hostname, Number(port));
      try {
        await raw.openChannel(1);
        raw.send(methodFrame(1, confirmSelect, new ArgWriter().bit(false)));
        await raw.expectMethod(confirmSelectOk);
        raw.send(publishFrames(1, '', 'long-keys', Buffer.from('huge'), { deliveryMode: 2, headers: { key: 'x'.repeat(70_000) } }));
        await raw.expectMethod(basicNack, 10_000);
        raw.send(publishFrames(1, '', 'long-keys', Buffer.from('after'), { deliveryMode: 2, headers: { key: 'k1' } }));
        await raw.expectMethod(basicAck, 10_000);
        expect(raw.isClosed).toBe(false);
      } finally {
        raw.destroy();
      }
      expect(streamOf(b, 'long-keys').log.error).toBeNull();
      const r = await reader(conn, 'long-keys', { 'x-stream-offset': 'first' });
      await r.waitFor(1);
      expect(r.texts()).toEqual(['after']);
      expect(r.offsets()).toEqual([0]);
    });
  });
});
