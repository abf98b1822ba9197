/**
 * The Kafka plugin's read-only view for management (PluginContext.kafka()): topics with
 * their partition streams, groups with their members, assignments, committed offsets and lag.
 * Committed offsets are the streams' stored offsets for the group's name (stored = committed - 1).
 */
import type { StreamView } from '../../src/core/index.js';
import type { KafkaGroupInfo, KafkaGroupOffset, KafkaTopicInfo, KafkaView } from '../../src/plugin-host/index.js';
import type { KafkaBroker } from './broker.js';
import { Reader } from './codec/reader.js';
import type { Group } from './groups/group.js';

export function kafkaViewOf(broker: KafkaBroker): KafkaView {
  return {
    topics: () => [...broker.topics.all()].map(([name, streams]) => topicInfo(broker.settings.vhost, name, streams)),
    groups: () => [...broker.groups.groups.values()].map((g) => groupInfo(broker, g)),
  };
}

function topicInfo(vhost: string, name: string, streams: StreamView[]): KafkaTopicInfo {
  return {
    name,
    vhost,
    partitions: streams.map((s, partition) => ({
      partition,
      queue: s.name,
      messages: s.messageCount,
      firstOffset: s.firstOffset,
      lastOffset: s.committedOffset - 1,
    })),
  };
}

function groupInfo(broker: KafkaBroker, g: Group): KafkaGroupInfo {
  const members = [...g.members.values()].map((m) => ({
    memberId: m.id,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assignments: g.protocolType === 'consumer' ? decodeAssignment(m.assignment) : [],
  }));
  const assigned = new Set(members.flatMap((m) => m.assignments.flatMap((a) => a.partitions.map((p) => `${a.topic}\0${p}`))));
  const offsets: KafkaGroupOffset[] = [];
  for (const [topic, streams] of broker.topics.all()) {
    streams.forEach((s, partition) => {
      const stored = s.storedOffset(g.id);
      if (stored === undefined && !assigned.has(`${topic}\0${partition}`)) return;
      const committed = stored === undefined ? null : stored + 1;
      offsets.push({ topic, partition, queue: s.name, committedOffset: committed, lag: committed === null ? null : Math.max(0, s.committedOffset - committed) });
    });
  }
  return { groupId: g.id, vhost: broker.settings.vhost, state: g.state, protocolType: g.protocolType, protocol: g.protocol, generation: g.generation, leader: g.leader, members, offsets };
}

/** The consumer protocol's assignment (version, [topic, [partition]], user data); [] when it does not parse. */
export function decodeAssignment(buf: Buffer): { topic: string; partitions: number[] }[] {
  if (buf.length < 6) return [];
  try {
    const r = new Reader(buf);
    r.int16();
    const n = r.int32();
    const out: { topic: string; partitions: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const topic = r.string();
      const count = r.int32();
      const partitions: number[] = [];
      for (let j = 0; j < count; j++) partitions.push(r.int32());
      out.push({ topic, partitions });
    }
    return out;
  } catch {
    return [];
  }
}
