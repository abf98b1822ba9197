/**
 * DescribeConfigs and AlterConfigs for topics: the settings of README "Kafka clients"
 * (retention.ms, retention.bytes, cleanup.policy, segment.bytes), read from the partition
 * streams' arguments. A stream's arguments are fixed when it is declared, so AlterConfigs
 * is refused with INVALID_REQUEST (set them at CreateTopics; retention can also be changed
 * with a policy on the streams).
 */
import { decodeAlterConfigs, decodeDescribeConfigs, encodeAlterConfigs, encodeDescribeConfigs, RESOURCE_TOPIC, type DescribeConfigsResult } from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { topicConfigsOf } from '../topics.js';

export function handleDescribeConfigs(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const resources = decodeDescribeConfigs(r, h.apiVersion);
  const results = resources.map((res): DescribeConfigsResult => {
    const base = { type: res.type, name: res.name };
    if (res.type !== RESOURCE_TOPIC) return { ...base, errorCode: 0, errorMessage: null, configs: [] };
    const stream = c.broker.topics.partition(res.name, 0);
    if (stream === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${res.name}' does not exist.`, configs: [] };
    const configs = topicConfigsOf(stream.arguments)
      .filter((cfg) => res.keys === null || res.keys.includes(cfg.name))
      .map((cfg) => ({ ...cfg, readOnly: true }));
    return { ...base, errorCode: 0, errorMessage: null, configs };
  });
  c.answer(slot, h, (w) => encodeDescribeConfigs(w, h.apiVersion, results));
}

export function handleAlterConfigs(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeAlterConfigs(r, h.apiVersion);
  const results = req.resources.map((res) => ({
    type: res.type,
    name: res.name,
    errorCode: ErrorCode.INVALID_REQUEST,
    errorMessage: 'Topic settings are fixed when the topic is created (stream arguments); set them with CreateTopics.',
  }));
  c.answer(slot, h, (w) => encodeAlterConfigs(w, h.apiVersion, results));
}
