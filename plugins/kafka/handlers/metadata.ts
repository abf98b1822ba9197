/**
 * Metadata: this node is the only broker, the controller, and the leader and only replica of
 * every partition. Topics asked for that do not exist are created when the request allows it
 * and `kafka.auto_create_topics` is on (Kafka's auto.create.topics.enable).
 */
import { encodeMetadata, decodeMetadata, type TopicMetadata } from '../codec/messages/metadata.js';
import { ErrorCode } from '../codec/errors.js';
import { NODE_ID } from '../broker.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { createTopic } from './topics.js';
import { topicNameError } from '../topics.js';

export function handleMetadata(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeMetadata(r, h.apiVersion);
  const b = c.broker;
  const topics: TopicMetadata[] = [];
  if (req.topics === null) {
    for (const [name, parts] of b.topics.all()) topics.push({ errorCode: 0, name, partitions: parts.map((_s, i) => i) });
  } else {
    for (const name of req.topics) {
      let n = b.topics.partitionCount(name);
      let errorCode = 0;
      if (n === 0) {
        if (topicNameError(name) !== null) errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
        else if (req.allowAutoTopicCreation && b.settings.autoCreateTopics) {
          errorCode = createTopic(c, name, b.settings.numPartitions, []).errorCode;
          n = b.topics.partitionCount(name);
        } else errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      }
      topics.push({ errorCode: n > 0 ? 0 : errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: Array.from({ length: n }, (_v, i) => i) });
    }
  }
  const { host, port } = b.advertised(c);
  c.answer(slot, h, (w) => encodeMetadata(w, h.apiVersion, { brokers: [{ nodeId: NODE_ID, host, port }], clusterId: b.clusterId, controllerId: NODE_ID, topics }));
}
