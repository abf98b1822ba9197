/**
 * DescribeConfigs and AlterConfigs for topics: the settings of README "Kafka clients"
 * (retention.ms, retention.bytes, cleanup.policy, segment.bytes) are the partition streams'
 * arguments (topics.ts maps them).
 *
 * AlterConfigs replaces a topic's settings as Kafka does (the ones not given go back to their
 * defaults) by replacing those arguments of every partition stream (StreamView.setArguments:
 * saved, and applied to the running streams as a policy change is). Arguments rather than a
 * policy per topic: a topic's settings are the topic's own, as a stream's arguments are;
 * operators' policies keep applying on top by RabbitMQ's rules, and a policy per topic would
 * replace any operator policy matching the streams (only one policy applies to a queue).
 * Errors per resource: an unknown topic UNKNOWN_TOPIC_OR_PARTITION, no configure permission
 * on its streams TOPIC_AUTHORIZATION_FAILED, an unknown setting or a bad value INVALID_CONFIG,
 * a resource other than a topic INVALID_REQUEST. validate_only checks without applying.
 * IncrementalAlterConfigs (44) is not offered: neither kafkajs 2.2 nor librdkafka's kcat uses it.
 */
import { decodeAlterConfigs, decodeDescribeConfigs, encodeAlterConfigs, encodeDescribeConfigs, RESOURCE_TOPIC, type DescribeConfigsResult } from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { streamArgumentsFor, topicConfigsOf, withoutTopicConfigs } from '../topics.js';
import { topicErrorCode } from './errors.js';
import type { StreamView } from '../../../src/core/index.js';

export function handleDescribeConfigs(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const resources = decodeDescribeConfigs(r, h.apiVersion);
  const results = resources.map((res): DescribeConfigsResult => {
    const base = { type: res.type, name: res.name };
    if (res.type !== RESOURCE_TOPIC) return { ...base, errorCode: 0, errorMessage: null, configs: [] };
    const stream = c.broker.topics.partition(res.name, 0);
    if (stream === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${res.name}' does not exist.`, configs: [] };
    const configs = topicConfigsOf(stream.arguments)
      .filter((cfg) => res.keys === null || res.keys.includes(cfg.name))
      .map((cfg) => ({ ...cfg, readOnly: false }));
    return { ...base, errorCode: 0, errorMessage: null, configs };
  });
  c.answer(slot, h, (w) => encodeDescribeConfigs(w, h.apiVersion, results));
}

export function handleAlterConfigs(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeAlterConfigs(r, h.apiVersion);
  const results = req.resources.map((res) => {
    const outcome = alterTopic(c, res.type, res.name, res.configs, req.validateOnly);
    return { type: res.type, name: res.name, errorCode: outcome.code, errorMessage: outcome.message };
  });
  c.answer(slot, h, (w) => encodeAlterConfigs(w, h.apiVersion, results));
}

function alterTopic(c: KafkaConnection, type: number, topic: string, configs: { name: string; value: string | null }[], validateOnly: boolean): { code: number; message: string | null } {
  if (type !== RESOURCE_TOPIC) return { code: ErrorCode.INVALID_REQUEST, message: 'Only topic settings can be altered.' };
  const streams: StreamView[] = [];
  for (let p = 0; ; p++) {
    const s = c.broker.topics.partition(topic, p);
    if (s === undefined) break;
    streams.push(s);
  }
  if (streams.length === 0) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `Topic '${topic}' does not exist.` };
  let settings;
  try {
    settings = streamArgumentsFor(configs);
  } catch (e) {
    return { code: ErrorCode.INVALID_CONFIG, message: (e as Error).message };
  }
  try {
    // every partition's permission first: a refusal changes nothing
    for (const s of streams) c.coreConnection().checkAccess('configure', 'queue', s.name);
    if (!validateOnly) for (const s of streams) s.setArguments({ ...withoutTopicConfigs(s.arguments), ...settings });
  } catch (e) {
    return { code: topicErrorCode(e), message: (e as Error).message };
  }
  return { code: ErrorCode.NONE, message: null };
}
