/** API key → handler. Each handler decodes its request, acts, and answers through `c.answer(slot, …)`. */
import type { KafkaConnection } from '../connection.js';
import { ApiKey } from '../codec/api-keys.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { handleApiVersions } from './api-versions.js';
import { handleMetadata } from './metadata.js';
import { handleProduce } from './produce.js';
import { handleFetch } from './fetch.js';
import { handleListOffsets } from './list-offsets.js';
import { handleCreateTopics, handleDeleteTopics, handleCreatePartitions } from './topics.js';
import { handleDescribeConfigs, handleAlterConfigs, handleIncrementalAlterConfigs } from './configs.js';
import { handleFindCoordinator, handleJoinGroup, handleSyncGroup, handleHeartbeat, handleLeaveGroup, handleListGroups, handleDescribeGroups } from './groups.js';
import { handleOffsetCommit, handleOffsetFetch } from './offsets.js';
import { handleInitProducerId } from './producer-id.js';
import { handleSaslHandshake, handleSaslAuthenticate } from './sasl.js';

export type Handler = (c: KafkaConnection, h: RequestHeader, r: Reader, slot: number) => void;

export const HANDLERS: Record<number, Handler> = {
  [ApiKey.ApiVersions]: handleApiVersions,
  [ApiKey.Metadata]: handleMetadata,
  [ApiKey.Produce]: handleProduce,
  [ApiKey.Fetch]: handleFetch,
  [ApiKey.ListOffsets]: handleListOffsets,
  [ApiKey.CreateTopics]: handleCreateTopics,
  [ApiKey.DeleteTopics]: handleDeleteTopics,
  [ApiKey.CreatePartitions]: handleCreatePartitions,
  [ApiKey.DescribeConfigs]: handleDescribeConfigs,
  [ApiKey.AlterConfigs]: handleAlterConfigs,
  [ApiKey.IncrementalAlterConfigs]: handleIncrementalAlterConfigs,
  [ApiKey.FindCoordinator]: handleFindCoordinator,
  [ApiKey.JoinGroup]: handleJoinGroup,
  [ApiKey.SyncGroup]: handleSyncGroup,
  [ApiKey.Heartbeat]: handleHeartbeat,
  [ApiKey.LeaveGroup]: handleLeaveGroup,
  [ApiKey.ListGroups]: handleListGroups,
  [ApiKey.DescribeGroups]: handleDescribeGroups,
  [ApiKey.OffsetCommit]: handleOffsetCommit,
  [ApiKey.OffsetFetch]: handleOffsetFetch,
  [ApiKey.InitProducerId]: handleInitProducerId,
  [ApiKey.SaslHandshake]: handleSaslHandshake,
  [ApiKey.SaslAuthenticate]: handleSaslAuthenticate,
};
