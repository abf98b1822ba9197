/** ListOffsets (key 2) v1-5: timestamp -2 = earliest, -1 = latest, else the first offset at or after it. */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export const EARLIEST = -2;
export const LATEST = -1;

export interface ListOffsetsRequest {
  topics: { name: string; partitions: { partition: number; timestamp: number }[] }[];
}

export function decodeListOffsets(r: Reader, v: number): ListOffsetsRequest {
  r.int32(); // replica_id
  if (v >= 2) r.int8(); // isolation level
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const partition = r.int32();
      if (v >= 4) r.int32(); // current leader epoch
      return { partition, timestamp: r.int64() };
    }),
  }));
  return { topics };
}

export interface ListOffsetsResponse {
  topics: { name: string; partitions: { partition: number; errorCode: number; timestamp: number; offset: number }[] }[];
}

export function encodeListOffsets(w: Writer, v: number, res: ListOffsetsResponse): void {
  if (v >= 2) w.int32(0);
  w.array(res.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.timestamp).int64(p.offset);
      if (v >= 4) w.int32(0); // leader epoch
    });
  });
}
