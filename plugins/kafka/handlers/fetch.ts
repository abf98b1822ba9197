/**
 * Fetch: record batches built from each partition's reader (partition-reader.ts). The answer
 * waits up to max_wait_ms until min_bytes are there (a long poll woken by deliveries).
 * A fetch offset outside [log start, high watermark] is OFFSET_OUT_OF_RANGE, as in Kafka,
 * so the client applies its reset policy. Only committed (fdatasynced) records are ever
 * served: the stream's consumers never read past the committed offset.
 */
import { decodeFetch, encodeFetch, type FetchPartitionResult, type FetchRequest } from '../codec/messages/fetch.js';
import { ErrorCode } from '../codec/errors.js';
import { encodeBatch } from '../codec/records.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { recordOfMessage } from '../message.js';
import { PartitionReader } from '../partition-reader.js';
import { topicErrorCode } from './errors.js';

const readersOf = new WeakMap<KafkaConnection, Map<string, PartitionReader>>();
/** long polls waiting on a connection: cleared when it closes (one cleanup per connection, not per fetch) */
const waitsOf = new WeakMap<KafkaConnection, Set<NodeJS.Timeout>>();

function waitsFor(c: KafkaConnection): Set<NodeJS.Timeout> {
  let waits = waitsOf.get(c);
  if (waits === undefined) {
    const set = new Set<NodeJS.Timeout>();
    waits = set;
    waitsOf.set(c, set);
    c.onClose(() => {
      for (const t of set) clearTimeout(t);
      set.clear();
    });
  }
  return waits;
}

function readerFor(c: KafkaConnection, stream: string, offset: number): PartitionReader {
  let readers = readersOf.get(c);
  if (readers === undefined) {
    const map = new Map<string, PartitionReader>();
    readers = map;
    readersOf.set(c, map);
    c.onClose(() => {
      for (const r of map.values()) r.close();
      map.clear();
    });
  }
  let reader = readers.get(stream);
  if (reader === undefined || reader.cancelled) {
    reader?.close();
    reader = new PartitionReader(c, stream, offset);
    readers.set(stream, reader);
  } else if (reader.expected !== offset) reader.seek(offset);
  return reader;
}

export function handleFetch(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeFetch(r, h.apiVersion);
  const readers: (PartitionReader | null)[] = [];
  const errors: number[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      const stream = c.broker.topics.partition(t.topic, p.partition);
      let reader: PartitionReader | null = null;
      let error: number = ErrorCode.NONE;
      if (stream === undefined) error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.fetchOffset < stream.firstOffset || p.fetchOffset > stream.committedOffset) error = ErrorCode.OFFSET_OUT_OF_RANGE;
      else {
        try {
          reader = readerFor(c, stream.name, p.fetchOffset);
        } catch (e) {
          error = topicErrorCode(e);
        }
      }
      readers.push(reader);
      errors.push(error);
    }
  }
  const available = () => {
    let n = 0;
    for (const rd of readers) if (rd !== null) n += rd.bufferedBytes;
    return n;
  };
  const respond = () => {
    for (const rd of readers) if (rd !== null) rd.onData = null;
    answer(c, h, slot, req, readers, errors);
  };
  if (req.maxWaitMs <= 0 || available() >= Math.max(1, req.minBytes) || errors.some((e) => e !== 0)) return respond();
  const waits = waitsFor(c);
  let timer: NodeJS.Timeout | null = null;
  const wake = () => {
    if (available() < Math.max(1, req.minBytes) && !readers.some((rd) => rd?.cancelled)) return;
    if (timer !== null) {
      clearTimeout(timer);
      waits.delete(timer);
    }
    timer = null;
    respond();
  };
  for (const rd of readers) if (rd !== null) rd.onData = wake;
  timer = setTimeout(() => {
    if (timer !== null) waits.delete(timer);
    timer = null;
    respond();
  }, req.maxWaitMs);
  waits.add(timer);
}

function answer(c: KafkaConnection, h: RequestHeader, slot: number, req: FetchRequest, readers: (PartitionReader | null)[], errors: number[]): void {
  let i = 0;
  let left = req.maxBytes > 0 ? req.maxBytes : Number.MAX_SAFE_INTEGER;
  const topics = req.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p): FetchPartitionResult => {
      const reader = readers[i];
      const error = errors[i++]!;
      const stream = c.broker.topics.partition(t.topic, p.partition);
      const res: FetchPartitionResult = {
        partition: p.partition,
        errorCode: error,
        highWatermark: stream?.committedOffset ?? -1,
        logStartOffset: stream?.firstOffset ?? -1,
        records: null,
      };
      if (reader === null || reader === undefined || error !== 0 || left <= 0) return res;
      const messages = reader.take(p.fetchOffset, Math.min(p.partitionMaxBytes, left));
      if (messages.length === 0) return res;
      const batch = encodeBatch(messages.map(recordOfMessage));
      left -= batch.length;
      res.records = batch;
      return res;
    }),
  }));
  c.answer(slot, h, (w) => encodeFetch(w, h.apiVersion, { topics }), 1024);
}
