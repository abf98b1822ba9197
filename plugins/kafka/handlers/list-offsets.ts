/**
 * ListOffsets: earliest (-2) is the stream's first kept offset, latest (-1) its committed
 * end (the high watermark); a timestamp finds the first record appended at or after it —
 * by a one-message stream consumer started at that time (the stream's time index: a binary
 * search and a short scan). Timestamps are the log's append times (README "Kafka clients").
 */
import { decodeListOffsets, EARLIEST, encodeListOffsets, LATEST, type ListOffsetsResponse } from '../codec/messages/list-offsets.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import type { Message } from '../../../src/core/index.js';
import { offsetOf } from '../partition-reader.js';
import { recordOfMessage } from '../message.js';
import { topicErrorCode } from './errors.js';

type PartitionOffset = ListOffsetsResponse['topics'][number]['partitions'][number];

export function handleListOffsets(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeListOffsets(r, h.apiVersion);
  let waiting = 1;
  const done = () => {
    if (--waiting === 0) c.answer(slot, h, (w) => encodeListOffsets(w, h.apiVersion, res));
  };
  const res: ListOffsetsResponse = {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): PartitionOffset => {
        const out: PartitionOffset = { partition: p.partition, errorCode: 0, timestamp: -1, offset: -1 };
        const stream = c.broker.topics.partition(t.name, p.partition);
        if (stream === undefined) out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.timestamp === EARLIEST) out.offset = stream.firstOffset;
        else if (p.timestamp === LATEST) out.offset = stream.committedOffset;
        else if (p.timestamp >= 0 && p.timestamp <= stream.lastTimestamp) {
          waiting++;
          try {
            firstAtOrAfter(c, stream.name, p.timestamp, (m) => {
              out.offset = offsetOf(m);
              out.timestamp = recordOfMessage(m).timestamp;
              done();
            });
          } catch (e) {
            out.errorCode = topicErrorCode(e);
            done();
          }
        }
        return out;
      }),
    })),
  };
  done();
}

function firstAtOrAfter(c: KafkaConnection, stream: string, timestamp: number, found: (m: Message) => void): void {
  let settled = false;
  const session = c.coreConnection().openSession({
    deliver: (_tag, _dt, _re, m) => {
      if (settled) return;
      settled = true;
      setImmediate(() => session.close());
      found(m);
    },
    consumerCancelled: () => {},
    returned: () => {},
    confirmed: () => {},
  });
  session.qos(1, false);
  session.consume(stream, { arguments: { 'x-stream-offset': new Date(timestamp) } });
}
