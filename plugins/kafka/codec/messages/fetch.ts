/** Fetch (key 1) v4-11, sessionless (session id 0, epoch -1, as kafkajs and librdkafka send). */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

const EMPTY = Buffer.alloc(0);

export interface FetchPartition {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: { topic: string; partitions: FetchPartition[] }[];
}

export function decodeFetch(r: Reader, v: number): FetchRequest {
  r.int32(); // replica_id
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = r.int32();
  const isolationLevel = r.int8();
  if (v >= 7) {
    r.int32(); // session_id
    r.int32(); // session_epoch
  }
  const topics = r.array((r) => ({
    topic: r.string(),
    partitions: r.array((r) => {
      const partition = r.int32();
      if (v >= 9) r.int32(); // current_leader_epoch
      const fetchOffset = r.int64();
      if (v >= 5) r.int64(); // log_start_offset (followers only)
      return { partition, fetchOffset, partitionMaxBytes: r.int32() };
    }),
  }));
  if (v >= 7) r.array((r) => ({ topic: r.string(), partitions: r.array((r) => r.int32()) }));
  if (v >= 11) r.string(); // rack_id
  return { maxWaitMs, minBytes, maxBytes, isolationLevel, topics };
}

export interface FetchPartitionResult {
  partition: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** record batches, null when none */
  records: Buffer | null;
}

export interface FetchResponse {
  topics: { topic: string; partitions: FetchPartitionResult[] }[];
}

export function encodeFetch(w: Writer, v: number, res: FetchResponse): void {
  w.int32(0); // throttle
  if (v >= 7) w.int16(0).int32(0); // error_code, session_id
  w.array(res.topics, (w, t) => {
    w.string(t.topic);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.highWatermark);
      w.int64(p.highWatermark); // last stable offset: no transactions
      if (v >= 5) w.int64(p.logStartOffset);
      w.int32(-1); // aborted transactions: null
      if (v >= 11) w.int32(-1); // preferred read replica: none
      // empty rather than null: librdkafka refuses a null record set (MessageSetSize -1)
      w.bytes(p.records ?? EMPTY);
    });
  });
}
