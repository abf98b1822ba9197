/** CreateTopics, DeleteTopics, CreatePartitions: declaring and deleting a topic's partition streams. */
import {
  decodeCreatePartitions,
  decodeCreateTopics,
  decodeDeleteTopics,
  encodeCreatePartitions,
  encodeCreateTopics,
  encodeDeleteTopics,
  type TopicResult,
} from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { PARTITION_ARG, partitionQueue, streamArgumentsFor, TOPIC_ARG, topicNameError } from '../topics.js';
import { topicErrorCode } from './errors.js';
import type { FieldTable } from '../../../src/codec/index.js';
/** the core's exchange type that partitions by Kafka's murmur2 key hash (src/core/exchanges/partition-hash.ts) */
const PARTITION_HASH_TYPE = 'x-partition-hash';

/**
 * Declare partitions [from, to) of `topic` as streams with `args`, and bind each to the
 * exchange `topic` (type x-partition-hash, binding key = partition number), so AMQP, MQTT
 * and STOMP publishers reach the partition a Kafka producer with the same key would.
 */
function declarePartitions(c: KafkaConnection, topic: string, from: number, to: number, args: FieldTable): TopicResult {
  try {
    const session = c.session();
    for (let p = from; p < to; p++) {
      session.declareQueue(partitionQueue(topic, p), {
        durable: true,
        arguments: { ...args, 'x-queue-type': 'stream', [TOPIC_ARG]: topic, [PARTITION_ARG]: p },
      });
    }
    bindPartitionExchange(c, topic, from, to);
    return { name: topic, errorCode: 0, errorMessage: null };
  } catch (e) {
    return { name: topic, errorCode: topicErrorCode(e), errorMessage: (e as Error).message };
  }
}

/** The topic's exchange; an exchange of that name and another type is left alone (the topic works without it). */
function bindPartitionExchange(c: KafkaConnection, topic: string, from: number, to: number): void {
  const session = c.session();
  try {
    session.declareExchange(topic, PARTITION_HASH_TYPE, { durable: true, arguments: { [TOPIC_ARG]: topic } });
    for (let p = from; p < to; p++) session.bindQueue(partitionQueue(topic, p), topic, String(p));
  } catch (e) {
    c.log.info('Kafka topic created without its partitioning exchange', { topic, reason: (e as Error).message });
  }
}

export function createTopic(c: KafkaConnection, name: string, partitions: number, configs: { name: string; value: string | null }[], validateOnly = false): TopicResult {
  const bad = topicNameError(name);
  if (bad !== null) return { name, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: bad };
  if (c.broker.topics.partitionCount(name) > 0) return { name, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
  // -1: the broker's default (KIP-464)
  const n = partitions === -1 ? c.broker.settings.numPartitions : partitions;
  if (n < 1 || n > 10_000) return { name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions must be between 1 and 10000.' };
  let args: FieldTable;
  try {
    args = streamArgumentsFor(configs);
  } catch (e) {
    return { name, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: (e as Error).message };
  }
  if (validateOnly) return { name, errorCode: 0, errorMessage: null };
  const res = declarePartitions(c, name, 0, n, args);
  if (res.errorCode === 0) c.log.info('Kafka topic created', { topic: name, partitions: n, vhost: c.broker.settings.vhost });
  return res;
}

export function handleCreateTopics(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeCreateTopics(r, h.apiVersion);
  const results = req.topics.map((t) => {
    if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
      return { name: t.name, errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor: 1 (one node).' };
    }
    return createTopic(c, t.name, t.numPartitions, t.configs, req.validateOnly);
  });
  c.answer(slot, h, (w) => encodeCreateTopics(w, h.apiVersion, results));
}

export function handleDeleteTopics(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeDeleteTopics(r, h.apiVersion);
  const results = req.names.map((name): TopicResult => {
    const topics = c.broker.topics;
    const n = topics.partitionCount(name);
    if (n === 0) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
    try {
      const streams = Array.from({ length: n }, (_v, p) => topics.partition(name, p)!.name);
      for (const s of streams) c.session().deleteQueue(s, false, false);
      return { name, errorCode: 0, errorMessage: null };
    } catch (e) {
      return { name, errorCode: topicErrorCode(e), errorMessage: null };
    }
  });
  c.answer(slot, h, (w) => encodeDeleteTopics(w, h.apiVersion, results));
}

export function handleCreatePartitions(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeCreatePartitions(r, h.apiVersion);
  const results = req.topics.map(({ name, count }): TopicResult => {
    const topics = c.broker.topics;
    const n = topics.partitionCount(name);
    if (n === 0) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist.` };
    if (count <= n) return { name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic currently has ${n} partitions, ${count} would not be an increase.` };
    const first = topics.partition(name, 0)!;
    if (first.name === name) return { name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `'${name}' is a plain stream: it has one partition.` };
    if (req.validateOnly) return { name, errorCode: 0, errorMessage: null };
    // new partitions get the settings of the first
    const args: FieldTable = { ...first.arguments };
    return declarePartitions(c, name, n, count, args);
  });
  c.answer(slot, h, (w) => encodeCreatePartitions(w, h.apiVersion, results));
}
