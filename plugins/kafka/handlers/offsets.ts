/**
 * OffsetCommit and OffsetFetch on the streams' stored offsets: group `g` committing offset
 * `o` (the next record to read, Kafka's convention) for a partition stores `o - 1` (the last
 * record processed, the streams' convention) under the consumer name `g` on that stream. So
 * an AMQP consumer with `x-stream-consumer-name: g` resumes where the Kafka group stopped, and
 * the other way round (README "Kafka clients"). Commit metadata is not kept.
 */
import { decodeOffsetCommit, decodeOffsetFetch, encodeOffsetCommit, encodeOffsetFetch } from '../codec/messages/offsets.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { topicErrorCode } from './errors.js';

export function handleOffsetCommit(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeOffsetCommit(r, h.apiVersion);
  const group = c.broker.groups.group(req.groupId, false);
  const groupError = req.groupId === '' ? ErrorCode.INVALID_GROUP_ID : group === undefined ? (req.generationId < 0 ? 0 : ErrorCode.UNKNOWN_MEMBER_ID) : group.commitError(req.generationId, req.memberId);
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      if (groupError !== 0) return { partition: p.partition, errorCode: groupError };
      const stream = c.broker.topics.partition(t.name, p.partition);
      if (stream === undefined) return { partition: p.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      try {
        // read = fetch and group: committing a group's position reads the stream
        c.coreConnection().checkAccess('read', 'queue', stream.name);
        if (p.offset > 0) stream.commitOffset(req.groupId, p.offset - 1);
        return { partition: p.partition, errorCode: 0 };
      } catch (e) {
        return { partition: p.partition, errorCode: topicErrorCode(e) };
      }
    }),
  }));
  c.answer(slot, h, (w) => encodeOffsetCommit(w, h.apiVersion, { topics }));
}

export function handleOffsetFetch(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeOffsetFetch(r, h.apiVersion);
  const asked = req.topics ?? [...c.broker.topics.all()].map(([name, parts]) => ({ name, partitions: parts.map((_s, i) => i) }));
  const topics = asked.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((partition) => {
      const stream = c.broker.topics.partition(t.name, partition);
      if (stream === undefined) return { partition, offset: -1, metadata: null, errorCode: req.topics === null ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      try {
        c.coreConnection().checkAccess('read', 'queue', stream.name);
      } catch {
        return { partition, offset: -1, metadata: null, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
      }
      const stored = stream.storedOffset(req.groupId);
      return { partition, offset: stored === undefined ? -1 : stored + 1, metadata: '', errorCode: 0 };
    }),
  }));
  c.answer(slot, h, (w) => encodeOffsetFetch(w, h.apiVersion, { errorCode: 0, topics }));
}
