/**
 * Produce (acks 0, 1, -1): each record becomes a persistent message to its partition's
 * stream through the default exchange, a record batch one batch publish (Session.publishBatch:
 * the core checks permissions and routes once, then appends the records back to back, offsets
 * known at once). With acks ≠ 0 the answer waits for the batch's confirm, which the core gives
 * after the stream's group commit and fdatasync covering its last record — in a cluster also
 * after every in-sync node's fdatasync (the replication gate holds the commit). acks = 0 gets
 * no answer, as in Kafka. acks 1 and -1 are the same (Warren never answers before the commit).
 */
import { decodeProduce, encodeProduce, type ProducePartitionResult } from '../codec/messages/produce.js';
import { ErrorCode } from '../codec/errors.js';
import { BatchError, decodeBatches, type RecordBatch } from '../codec/records.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { messageOfRecord } from '../message.js';
import { producerTag, recoverProducerState } from '../producer-recovery.js';
import type { Message, StreamView } from '../../../src/core/index.js';
import { topicErrorCode } from './errors.js';

export function handleProduce(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeProduce(r, h.apiVersion);
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
    const topics = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS)) }));
    return c.answer(slot, h, (w) => encodeProduce(w, h.apiVersion, { topics }));
  }
  const topics = req.topics.map((t) => ({ name: t.name, partitions: [] as ProducePartitionResult[] }));
  // what this request's gzip batches may inflate to, all together: as much as an uncompressed request or one message may hold
  const inflateBudget = { left: Math.max(c.core.maxMessageSize, c.broker.settings.maxRequestSize) };
  let waiting = 1;
  const done = () => {
    if (--waiting === 0) c.answer(slot, h, (w) => encodeProduce(w, h.apiVersion, { topics }));
  };
  const wantConfirm = req.acks !== 0;
  const track = (): (() => void) => {
    waiting++;
    return done;
  };
  for (let ti = 0; ti < req.topics.length; ti++) {
    const t = req.topics[ti]!;
    for (const p of t.partitions) {
      const result = failed(p.index, 0);
      topics[ti]!.partitions.push(result);
      if (req.transactionalId !== null) {
        result.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        continue;
      }
      const stream = c.broker.topics.partition(t.name, p.index);
      if (stream === undefined) {
        result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      try {
        // write = produce: on the partition's stream (the publish itself is checked on amq.default, as an AMQP publish to a queue)
        c.coreConnection().checkAccess('write', 'queue', stream.name);
      } catch (e) {
        result.errorCode = topicErrorCode(e);
        continue;
      }
      let batches: RecordBatch[];
      try {
        batches = p.records === null ? [] : decodeBatches(ownRecords(p.records), inflateBudget);
      } catch (e) {
        if (!(e instanceof BatchError)) throw e;
        result.errorCode = e.code;
        continue;
      }
      const needsState = batches.some((b) => b.producerId >= 0) && !c.broker.producers.recovered(stream.name);
      if (!needsState) {
        appendBatches(c, stream, batches, result, wantConfirm, track);
        continue;
      }
      // the first idempotent batch to this stream since the start: its producers' state comes back from the log first
      waiting++;
      recoverProducerState(c, stream.name, () => {
        const now = c.broker.topics.partition(t.name, p.index);
        if (now === undefined) result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else appendBatches(c, now, batches, result, wantConfirm, track);
        done();
      });
    }
  }
  done();
}

/** Append `batches` to `stream` (idempotence checked); `track()` registers one more durable point to wait for. */
function appendBatches(c: KafkaConnection, stream: StreamView, batches: RecordBatch[], result: ProducePartitionResult, wantConfirm: boolean, track: () => () => void): void {
  result.logStartOffset = stream.firstOffset;
  result.baseOffset = stream.nextOffset;
  if (batches.some(hasRoutingHeader)) {
    // CC and BCC are AMQP's sender-selected routing headers (lists of routing keys): a Kafka
    // header of that name cannot be stored as one, so the partition's data is refused whole
    result.errorCode = ErrorCode.INVALID_RECORD;
    return;
  }
  let first = true;
  try {
    for (const batch of batches) {
      if (batch.transactional || batch.control) {
        result.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        break;
      }
      const idempotent = batch.producerId >= 0;
      if (idempotent) {
        const check = c.broker.producers.check(batch.producerId, batch.producerEpoch, stream.name, batch.baseSequence, batch.records.length);
        if (check.kind === 'error') {
          result.errorCode = check.code;
          break;
        }
        if (check.kind === 'duplicate') {
          // a retry of a batch already appended: its offset, nothing appended again
          if (first) result.baseOffset = check.baseOffset;
          continue;
        }
      }
      const batchBase = stream.nextOffset;
      if (first) result.baseOffset = batchBase;
      first = false;
      // the batch as one publish: routed once, appended record by record (an offset each), one confirm
      const records = batch.records;
      const messages: Message[] = new Array(records.length);
      for (let i = 0; i < records.length; i++) {
        // the batch's producer state travels with its first record, so a restart can rebuild it from the log
        messages[i] = i === 0 && idempotent ? messageOfRecord(stream.name, records[i]!, producerTag(batch)) : messageOfRecord(stream.name, records[i]!);
      }
      if (wantConfirm) {
        const done = track();
        const token = c.confirmToken((ok, error) => {
          if (!ok && result.errorCode === 0) result.errorCode = refusalCode(error);
          done();
        });
        try {
          c.session().publishBatch(messages, token);
        } catch (e) {
          // refused before any confirm could come: the answer must not wait for one
          c.confirms.delete(token);
          done();
          throw e;
        }
      } else c.session().publishBatch(messages);
      if (idempotent) c.broker.producers.appended(batch.producerId, batch.producerEpoch, stream.name, batch.baseSequence, records.length, batchBase);
    }
  } catch (e) {
    result.errorCode = topicErrorCode(e);
  }
}

/**
 * The partition's records as the messages will hold them (their bodies are views into it, kept
 * by the stream's tail cache): the request's own bytes when they are most of the memory they
 * sit in (a frame joined for this request alone), so a large produce is not copied again; a
 * copy when they are a small part of a larger buffer (a socket read holding other requests),
 * which the views would otherwise keep alive whole.
 */
function ownRecords(records: Buffer): Buffer {
  return records.buffer.byteLength <= 2 * records.length ? records : Buffer.from(records);
}

/**
 * A refused confirm: in a cluster, the replication gate refuses a round that too few in-sync
 * nodes hold within its deadline (marked `notReplicated`, the store's NotReplicatedError): the
 * records are in the leader's log but not promised, which is Kafka's
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND (retriable). Anything else is a write failure.
 */
function refusalCode(error: Error | null): number {
  return (error as { notReplicated?: boolean } | null)?.notReplicated === true ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.KAFKA_STORAGE_ERROR;
}

function hasRoutingHeader(batch: RecordBatch): boolean {
  for (const rec of batch.records) for (const h of rec.headers) if (h.key === 'CC' || h.key === 'BCC') return true;
  return false;
}

function failed(index: number, errorCode: number): ProducePartitionResult {
  return { index, errorCode, baseOffset: -1, logStartOffset: -1 };
}
