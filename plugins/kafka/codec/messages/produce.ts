/** Produce (key 0) v3-7: record batches (magic 2) only. */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface ProducePartition {
  index: number;
  /** the raw record batches, a view into the request */
  records: Buffer | null;
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: ProducePartition[] }[];
}

export function decodeProduce(r: Reader, _v: number): ProduceRequest {
  const transactionalId = r.nullableString();
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
  }));
  return { transactionalId, acks, timeoutMs, topics };
}

export interface ProducePartitionResult {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResult[] }[];
}

export function encodeProduce(w: Writer, v: number, res: ProduceResponse): void {
  w.array(res.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.errorCode).int64(p.baseOffset);
      w.int64(-1); // log_append_time_ms: CreateTime topics
      if (v >= 5) w.int64(p.logStartOffset);
    });
  });
  w.int32(0);
}
