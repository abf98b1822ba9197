/** Metadata (key 3) v1-8. */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface MetadataRequest {
  /** null: every topic */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}

export function decodeMetadata(r: Reader, v: number): MetadataRequest {
  const topics = r.nullableArray((r) => r.string());
  const allowAutoTopicCreation = v >= 4 ? r.bool() : true;
  if (v >= 8) {
    r.bool(); // include_cluster_authorized_operations
    r.bool(); // include_topic_authorized_operations
  }
  return { topics, allowAutoTopicCreation };
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

export interface TopicMetadata {
  errorCode: number;
  name: string;
  /** partition indexes (the leader is always this node) */
  partitions: number[];
}

export interface MetadataResponse {
  brokers: BrokerInfo[];
  clusterId: string;
  controllerId: number;
  topics: TopicMetadata[];
}

export function encodeMetadata(w: Writer, v: number, res: MetadataResponse): void {
  if (v >= 3) w.int32(0);
  w.array(res.brokers, (w, b) => w.int32(b.nodeId).string(b.host).int32(b.port).nullableString(null));
  if (v >= 2) w.nullableString(res.clusterId);
  w.int32(res.controllerId);
  const node = res.controllerId;
  w.array(res.topics, (w, t) => {
    w.int16(t.errorCode).string(t.name).bool(false);
    w.array(t.partitions, (w, p) => {
      w.int16(0).int32(p).int32(node);
      if (v >= 7) w.int32(0); // leader epoch
      w.int32(1).int32(node); // replicas
      w.int32(1).int32(node); // in-sync replicas
      if (v >= 5) w.int32(0); // offline replicas
    });
    if (v >= 8) w.int32(-2147483648); // topic authorized operations: not asked for
  });
  if (v >= 8) w.int32(-2147483648);
}
