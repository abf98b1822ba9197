/**
 * Idempotent producer state across restarts (KIP-98 keeps it in a snapshot beside the log;
 * here it is in the log itself): the first record of each idempotent batch carries the
 * header `x-kafka-producer: <id>.<epoch>.<base sequence>.<count>`, so the first idempotent
 * produce to a stream after a start reads the stream's tail (the last `SCAN_RECORDS`
 * records) through a stream consumer and replays those batches into `ProducerStates` before
 * it appends. Produces to that stream arriving meanwhile wait behind it, in order.
 */
import type { Message } from '../../src/core/index.js';
import type { KafkaConnection } from './connection.js';
import type { RecordBatch } from './codec/records.js';
import { PRODUCER_HEADER } from './message.js';
import { offsetOf } from './partition-reader.js';

/** how far back a restart looks for producer state (Kafka keeps the last 5 batches per producer) */
const SCAN_RECORDS = 100_000;
const PREFETCH = 2000;

const pending = new Map<string, (() => void)[]>();

export function producerTag(batch: RecordBatch): string {
  return `${batch.producerId}.${batch.producerEpoch}.${batch.baseSequence}.${batch.records.length}`;
}

export function recoverProducerState(c: KafkaConnection, stream: string, then: () => void): void {
  const producers = c.broker.producers;
  if (producers.recovered(stream)) return then();
  const waiting = pending.get(stream);
  if (waiting !== undefined) {
    waiting.push(then);
    return;
  }
  const queue = [then];
  pending.set(stream, queue);
  const finish = () => {
    producers.markRecovered(stream);
    pending.delete(stream);
    for (const fn of queue) fn();
  };
  const view = c.core.stream(c.broker.settings.vhost, stream);
  if (view === undefined || view.committedOffset === view.firstOffset) return finish();
  const end = view.committedOffset;
  const from = Math.max(view.firstOffset, end - SCAN_RECORDS);
  const session = c.coreConnection().openSession({
    deliver: (_tag, deliveryTag, _re, m: Message) => {
      const offset = offsetOf(m);
      const tag = m.properties.headers?.[PRODUCER_HEADER];
      if (typeof tag === 'string') {
        const [pid, epoch, seq, count] = tag.split('.').map(Number) as [number, number, number, number];
        producers.appended(pid, epoch, stream, seq, count, offset);
      }
      if (deliveryTag % 500 === 0) session.ack(deliveryTag, true);
      if (offset + 1 >= end) {
        setImmediate(() => session.close());
        finish();
      }
    },
    consumerCancelled: () => finish(),
    returned: () => {},
    confirmed: () => {},
  });
  session.qos(PREFETCH, false);
  session.consume(stream, { arguments: { 'x-stream-offset': from } });
}
