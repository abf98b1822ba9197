/** OffsetCommit (key 8) v2-7 and OffsetFetch (key 9) v1-5. */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: { partition: number; offset: number; metadata: string | null }[] }[];
}

export function decodeOffsetCommit(r: Reader, v: number): OffsetCommitRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (v >= 7) r.nullableString(); // group instance id
  if (v <= 4) r.int64(); // retention time
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const partition = r.int32();
      const offset = r.int64();
      if (v >= 6) r.int32(); // committed leader epoch
      return { partition, offset, metadata: r.nullableString() };
    }),
  }));
  return { groupId, generationId, memberId, topics };
}

export interface PartitionErrors {
  topics: { name: string; partitions: { partition: number; errorCode: number }[] }[];
}

export function encodeOffsetCommit(w: Writer, v: number, res: PartitionErrors): void {
  if (v >= 3) w.int32(0);
  w.array(res.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.partition).int16(p.errorCode));
  });
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every topic the group has offsets for */
  topics: { name: string; partitions: number[] }[] | null;
}

export function decodeOffsetFetch(r: Reader, _v: number): OffsetFetchRequest {
  const groupId = r.string();
  const topics = r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
  return { groupId, topics };
}

export interface OffsetFetchResponse {
  errorCode: number;
  topics: { name: string; partitions: { partition: number; offset: number; metadata: string | null; errorCode: number }[] }[];
}

export function encodeOffsetFetch(w: Writer, v: number, res: OffsetFetchResponse): void {
  if (v >= 3) w.int32(0);
  w.array(res.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int64(p.offset);
      if (v >= 5) w.int32(-1);
      w.nullableString(p.metadata).int16(p.errorCode);
    });
  });
  if (v >= 2) w.int16(res.errorCode);
}
