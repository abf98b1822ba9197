/**
 * The APIs Warren answers and the versions of each (kafka.apache.org/protocol "The Messages";
 * field lists per version from the message schemas in apache/kafka
 * clients/src/main/resources/common/message). Only what is implemented is advertised in
 * ApiVersions. The ranges stop before each API's first flexible version (compact types and
 * tagged fields) except ApiVersions itself, whose v3 librdkafka sends first, and
 * IncrementalAlterConfigs v1 (its clients are all flexible-capable): kafkajs 2.2
 * speaks no flexible version, and librdkafka 2.x takes the highest version both sides have.
 */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  IncrementalAlterConfigs: 44,
} as const;

export type ApiKeyNumber = (typeof ApiKey)[keyof typeof ApiKey];

export interface VersionRange {
  min: number;
  max: number;
  /** first flexible version (request header v2, response header v1, compact types) */
  flexibleFrom: number;
}

/** api key → [min, max] implemented, and where that API's flexible versions begin. */
export const SUPPORTED: ReadonlyMap<number, VersionRange> = new Map<number, VersionRange>([
  // Produce v3+ carries record batches (magic 2) only: the older message sets (magic 0/1) are not read
  [ApiKey.Produce, { min: 3, max: 7, flexibleFrom: 9 }],
  [ApiKey.Fetch, { min: 4, max: 11, flexibleFrom: 12 }],
  [ApiKey.ListOffsets, { min: 1, max: 5, flexibleFrom: 6 }],
  [ApiKey.Metadata, { min: 1, max: 8, flexibleFrom: 9 }],
  [ApiKey.OffsetCommit, { min: 2, max: 7, flexibleFrom: 8 }],
  [ApiKey.OffsetFetch, { min: 1, max: 5, flexibleFrom: 6 }],
  [ApiKey.FindCoordinator, { min: 0, max: 2, flexibleFrom: 3 }],
  [ApiKey.JoinGroup, { min: 0, max: 5, flexibleFrom: 6 }],
  [ApiKey.Heartbeat, { min: 0, max: 3, flexibleFrom: 4 }],
  [ApiKey.LeaveGroup, { min: 0, max: 3, flexibleFrom: 4 }],
  [ApiKey.SyncGroup, { min: 0, max: 3, flexibleFrom: 4 }],
  [ApiKey.DescribeGroups, { min: 0, max: 4, flexibleFrom: 5 }],
  [ApiKey.ListGroups, { min: 0, max: 2, flexibleFrom: 3 }],
  [ApiKey.SaslHandshake, { min: 0, max: 1, flexibleFrom: 99 }],
  [ApiKey.ApiVersions, { min: 0, max: 3, flexibleFrom: 3 }],
  [ApiKey.CreateTopics, { min: 0, max: 4, flexibleFrom: 5 }],
  [ApiKey.DeleteTopics, { min: 0, max: 3, flexibleFrom: 4 }],
  [ApiKey.InitProducerId, { min: 0, max: 1, flexibleFrom: 2 }],
  [ApiKey.DescribeConfigs, { min: 0, max: 3, flexibleFrom: 4 }],
  [ApiKey.AlterConfigs, { min: 0, max: 1, flexibleFrom: 2 }],
  [ApiKey.SaslAuthenticate, { min: 0, max: 1, flexibleFrom: 2 }],
  [ApiKey.CreatePartitions, { min: 0, max: 1, flexibleFrom: 2 }],
  // v1 is flexible: the clients that send this API at all (Kafka's AdminClient, librdkafka ≥ 2.2) speak it
  [ApiKey.IncrementalAlterConfigs, { min: 0, max: 1, flexibleFrom: 1 }],
]);

export function isSupported(apiKey: number, version: number): boolean {
  const r = SUPPORTED.get(apiKey);
  return r !== undefined && version >= r.min && version <= r.max;
}
