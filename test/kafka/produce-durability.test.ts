/**
 * A produce with acks=-1 or acks=1 is answered only after the fdatasync covering its records:
 * the store's file syncs are held behind a gate (test/helpers/gated-disk.ts), a kafkajs
 * producer sends with the gate closed, and no answer may come while the sync is held. The
 * records are not fetchable then either (the high watermark is the durable end). acks=0 is
 * answered by nothing, as in Kafka.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { GatedDisk } from '../helpers/gated-disk.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

/** long enough, on a loaded machine, for an early answer to arrive */
const EARLY_WINDOW_MS = 400;

const disk = new GatedDisk();
let b: KafkaTestBroker;
let producer: Producer;

beforeAll(async () => {
  b = await startKafkaBroker({}, undefined, {}, { disk });
  producer = b.client().producer();
  await producer.connect();
});
afterEach(() => disk.openGate());
afterAll(async () => {
  disk.openGate();
  await producer.disconnect();
  await b.stop();
});

describe('Kafka produce waits for the fdatasync', () => {
  for (const acks of [-1, 1]) {
    it(`acks=${acks}: no answer while the sync is held, the answer once it ran`, async () => {
      const topic = uniqueTopic('gated');
      await producer.send({ topic, acks, messages: [{ value: 'warm-up' }] });
      const admin = b.client().admin();
      await admin.connect();
      try {
        disk.closeGate();
        let answered = false;
        const sent = producer.send({ topic, acks, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }).then((r) => {
          answered = true;
          return r;
        });
        await disk.held(1);
        await new Promise((r) => setTimeout(r, EARLY_WINDOW_MS));
        expect(answered, 'produce answered while its fdatasync was held').toBe(false);
        // not readable before it is durable: the high watermark is still after the warm-up record
        const [offsets] = await admin.fetchTopicOffsets(topic);
        expect(offsets!.high).toBe('1');
        disk.openGate();
        const [result] = await sent;
        expect(result!.errorCode).toBe(0);
        expect(result!.baseOffset).toBe('1');
        const [after] = await admin.fetchTopicOffsets(topic);
        expect(after!.high).toBe('4');
      } finally {
        await admin.disconnect();
      }
    });
  }

  it('acks=0: nothing to wait for (as Kafka), the records are appended and readable once synced', async () => {
    const topic = uniqueTopic('acks0');
    await producer.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] });
    const admin = b.client().admin();
    await admin.connect();
    try {
      disk.closeGate();
      // resolves while the sync is held: acks=0 asks for no answer
      await producer.send({ topic, acks: 0, messages: [{ value: 'x' }, { value: 'y' }] });
      await disk.held(1);
      disk.openGate();
      const deadline = Date.now() + 10_000;
      let high = '';
      while (high !== '3' && Date.now() < deadline) {
        high = (await admin.fetchTopicOffsets(topic))[0]!.high;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(high).toBe('3');
    } finally {
      await admin.disconnect();
    }
  });
});
