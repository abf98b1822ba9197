/**
 * MQTT reason codes (MQTT 5 §2.4) and CONNACK return codes (MQTT 3.1.1 §3.2.2.3), and the
 * one mapping from the core's `BrokerError` kinds onto them.
 */
import { isBrokerError } from '../../src/core/index.js';

export const RC = {
  SUCCESS: 0x00,
  GRANTED_QOS_1: 0x01,
  GRANTED_QOS_2: 0x02,
  DISCONNECT_WITH_WILL: 0x04,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  UNSPECIFIED_ERROR: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC_ERROR: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_IDENTIFIER_IN_USE: 0x91,
  PACKET_IDENTIFIER_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  PAYLOAD_FORMAT_INVALID: 0x99,
  QOS_NOT_SUPPORTED: 0x9b,
  SERVER_SHUTTING_DOWN: 0x8b,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes */
export const CONNACK_V3 = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USER_NAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** MQTT 3.1.1 §3.9.3: the SUBACK return code for a refused subscription */
export const SUBACK_FAILURE = 0x80;

/** The MQTT 5 reason code for an error thrown by the core (or anything else). */
export function reasonCodeOf(e: unknown): number {
  if (!isBrokerError(e)) return RC.UNSPECIFIED_ERROR;
  switch (e.kind) {
    case 'ACCESS_REFUSED':
    case 'NOT_ALLOWED':
      return RC.NOT_AUTHORIZED;
    case 'RESOURCE_LOCKED':
    case 'PRECONDITION_FAILED':
    case 'NOT_IMPLEMENTED':
      return RC.IMPLEMENTATION_SPECIFIC_ERROR;
    case 'CONTENT_TOO_LARGE':
      return RC.PACKET_TOO_LARGE;
    case 'RESOURCE_ERROR':
      return RC.QUOTA_EXCEEDED;
    case 'CONNECTION_FORCED':
      return RC.SERVER_SHUTTING_DOWN;
    case 'FRAME_ERROR':
    case 'SYNTAX_ERROR':
      return RC.MALFORMED_PACKET;
    case 'COMMAND_INVALID':
    case 'UNEXPECTED_FRAME':
    case 'CHANNEL_ERROR':
      return RC.PROTOCOL_ERROR;
    default:
      return RC.UNSPECIFIED_ERROR;
  }
}

/**
 * The CONNACK codes [MQTT 5 reason, 3.1.1 return code] for an error from opening the core
 * connection or its session. CONNECT checks the vhost and the user's access to it first, so a
 * NOT_ALLOWED here is a limit (connections of the node, vhost or user; the user's channels):
 * 0x97 Quota exceeded in 5.0, 3 Server unavailable in 3.1.1, as RabbitMQ's MQTT plugin answers
 * a connection limit.
 */
export function connectRefusalOf(e: unknown): [number, number] {
  if (!isBrokerError(e)) return [RC.UNSPECIFIED_ERROR, CONNACK_V3.SERVER_UNAVAILABLE];
  if (e.kind === 'NOT_ALLOWED') return [RC.QUOTA_EXCEEDED, CONNACK_V3.SERVER_UNAVAILABLE];
  if (e.kind === 'ACCESS_REFUSED') return [RC.NOT_AUTHORIZED, CONNACK_V3.NOT_AUTHORIZED];
  return [reasonCodeOf(e), CONNACK_V3.SERVER_UNAVAILABLE];
}

/** Thrown by handlers to end the connection: DISCONNECT with `reasonCode` (5.0) or a plain close (3.1.1). */
export class MqttProtocolError extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'MqttProtocolError';
  }
}
