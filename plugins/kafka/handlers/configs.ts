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
 *
 * IncrementalAlterConfigs (KIP-339) changes only the settings it names, from the topic's
 * current ones: SET a value, DELETE (back to the default), APPEND to / SUBTRACT from a list
 * setting (cleanup.policy is the one list here; on another setting INVALID_CONFIG, as Kafka).
 * A null value for SET/APPEND/SUBTRACT or a setting named twice is INVALID_REQUEST. The result
 * then goes the same way as AlterConfigs' (validated whole, every partition at once).
 */
import {
  ConfigOp,
  decodeAlterConfigs,
  decodeDescribeConfigs,
  decodeIncrementalAlterConfigs,
  encodeAlterConfigs,
  encodeDescribeConfigs,
  encodeIncrementalAlterConfigs,
  RESOURCE_TOPIC,
  type DescribeConfigsResult,
  type IncrementalConfigResource,
} from '../codec/messages/admin.js';
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
    const outcome = alterTopic(c, res.type, res.name, () => res.configs, req.validateOnly);
    return { type: res.type, name: res.name, errorCode: outcome.code, errorMessage: outcome.message };
  });
  c.answer(slot, h, (w) => encodeAlterConfigs(w, h.apiVersion, results));
}

export function handleIncrementalAlterConfigs(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeIncrementalAlterConfigs(r, h.apiVersion);
  const results = req.resources.map((res) => {
    const outcome = alterTopic(c, res.type, res.name, (current) => applyOperations(current, res), req.validateOnly);
    return { type: res.type, name: res.name, errorCode: outcome.code, errorMessage: outcome.message };
  });
  c.answer(slot, h, (w) => encodeIncrementalAlterConfigs(w, h.apiVersion, results));
}

type Setting = { name: string; value: string | null };
class RequestError extends Error {}

/** The topic's settings after `res`'s operations, from its current (explicit and default) ones. */
function applyOperations(current: { name: string; value: string; isDefault: boolean }[], res: IncrementalConfigResource): Setting[] {
  const explicit = new Map(current.filter((s) => !s.isDefault).map((s) => [s.name, s.value]));
  const effective = new Map(current.map((s) => [s.name, s.value]));
  const seen = new Set<string>();
  for (const { name, op, value } of res.configs) {
    if (seen.has(name)) throw new RequestError(`Error due to duplicate config keys: ${name}`);
    seen.add(name);
    if (op === ConfigOp.DELETE) {
      explicit.delete(name);
      continue;
    }
    if (op !== ConfigOp.SET && op !== ConfigOp.APPEND && op !== ConfigOp.SUBTRACT) throw new RequestError(`Unknown config operation ${op} for ${name}`);
    if (value === null) throw new RequestError(`Null value not supported for: ${name}`);
    if (op === ConfigOp.SET) {
      explicit.set(name, value);
      continue;
    }
    // list settings only (KIP-339): cleanup.policy is the one list among the topic settings here
    if (name !== 'cleanup.policy') throw new Error(`Config value ${op === ConfigOp.APPEND ? 'append' : 'subtract'} is not allowed for config key: ${name}`);
    const items = listOf(effective.get(name) ?? '');
    const given = listOf(value);
    const next = op === ConfigOp.APPEND ? [...items, ...given.filter((v) => !items.includes(v))] : items.filter((v) => !given.includes(v));
    if (next.length === 0) explicit.delete(name);
    else explicit.set(name, next.join(','));
  }
  return [...explicit].map(([name, value]) => ({ name, value }));
}

function listOf(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Replace `topic`'s settings on every partition stream with `wanted(current settings)`:
 * AlterConfigs passes the request's list as it is, IncrementalAlterConfigs its operations'
 * result. Thrown RequestError is INVALID_REQUEST, any other error of `wanted` INVALID_CONFIG.
 */
function alterTopic(c: KafkaConnection, type: number, topic: string, wanted: (current: ReturnType<typeof topicConfigsOf>) => Setting[], validateOnly: boolean): { code: number; message: string | null } {
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
    settings = streamArgumentsFor(wanted(topicConfigsOf(streams[0]!.arguments)));
  } catch (e) {
    return { code: e instanceof RequestError ? ErrorCode.INVALID_REQUEST : ErrorCode.INVALID_CONFIG, message: (e as Error).message };
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
