/**
 * Core errors → Kafka error codes, at the edge (the one place this plugin matches on
 * `BrokerError.kind`): permissions are the topic's or group's authorization failure, a
 * missing stream an unknown topic, anything else the protocol's generic codes.
 */
import { isBrokerError } from '../../../src/core/index.js';
import { ErrorCode } from '../codec/errors.js';

export function topicErrorCode(e: unknown): number {
  if (!isBrokerError(e)) return ErrorCode.UNKNOWN_SERVER_ERROR;
  switch (e.kind) {
    case 'ACCESS_REFUSED':
      return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case 'NOT_FOUND':
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case 'PRECONDITION_FAILED':
      return ErrorCode.INVALID_CONFIG;
    case 'RESOURCE_ERROR':
      return ErrorCode.KAFKA_STORAGE_ERROR;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
