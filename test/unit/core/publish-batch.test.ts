/**
 * Session.publishBatch: a batch for one stream queue is appended back to back (an offset per
 * message) with one confirm after the fdatasync of its last record; other batches behave as
 * the same messages published one by one — delivered in order, unroutable ones dropped and
 * counted, one negative confirm when a queue refused any (x-overflow reject-publish).
 */
import { describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import { dataDir } from '../../streams/helpers.js';
import { msg, Recorder, setup, sleep } from './harness.js';

describe('Session.publishBatch', () => {
  it('one stream queue: appended back to back, an offset each, one confirm once durable', async () => {
    const broker = new Broker({ dataDir: dataDir(), log: { level: 'warn' } }, { plugins: {} });
    await broker.start();
    try {
      const { s, rec } = setup(broker.core);
      s.declareQueue('st', { durable: true, arguments: { 'x-queue-type': 'stream' } });
      s.publishBatch([msg('st', 'a', { deliveryMode: 2 }), msg('st', 'b', { deliveryMode: 2 }), msg('st', 'c', { deliveryMode: 2 })], 7);
      const view = broker.core.stream('/', 'st')!;
      expect(view.nextOffset).toBe(3);
      for (let i = 0; i < 200 && rec.confirms.length === 0; i++) await sleep(10);
      expect(rec.confirms).toEqual([[7, true]]);
      expect(view.committedOffset).toBe(3);
      s.qos(10, false);
      s.consume('st', { consumerTag: 'c', arguments: { 'x-stream-offset': 'first' } });
      for (let i = 0; i < 200 && rec.got.length < 3; i++) await sleep(10);
      expect(rec.got.map((d) => [d.body, d.m.properties.headers?.['x-stream-offset']])).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]);
    } finally {
      await broker.stop();
    }
  });

  it('elsewhere: as publishes one by one — order, routing per message, unroutable dropped, one confirm', () => {
    const { s, rec, core } = setup();
    s.declareQueue('q1', {});
    s.declareQueue('q2', {});
    s.publishBatch([msg('q1', 'x1'), msg('q2', 'y1'), msg('nowhere', 'z'), msg('q1', 'x2')], 1);
    expect(rec.confirms).toEqual([[1, true]]);
    const stats = (s as unknown as { stats: { publish: number; dropUnroutable: number } }).stats;
    expect([stats.publish, stats.dropUnroutable]).toEqual([4, 1]);
    const r2 = new Recorder();
    const s2 = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 2 }).openSession(r2);
    s2.consume('q1', { consumerTag: 'a', noAck: true });
    s2.consume('q2', { consumerTag: 'b', noAck: true });
    expect(r2.bodies()).toEqual(['x1', 'x2', 'y1']);
  });

  it('a queue refusing part of the batch: the confirm is negative', () => {
    const { s, rec } = setup();
    s.declareQueue('small', { arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
    s.publishBatch([msg('small', '1'), msg('small', '2'), msg('small', '3')], 9);
    expect(rec.confirms).toEqual([[9, false]]);
  });
});
