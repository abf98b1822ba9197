/**
 * What the Kafka plugin shows other plugins (management) of the state only it knows: its
 * topics (which stream queues are whose partitions) and its consumer groups (membership is
 * in its memory). Plain data, computed when asked; nothing here changes the plugin's state.
 */

export interface KafkaPartitionInfo {
  partition: number;
  /** the stream queue holding this partition (`t-p`, or `t` for a plain stream) */
  queue: string;
  messages: number;
  /** the oldest offset still in the log */
  firstOffset: number;
  /** the newest readable offset (high watermark - 1); firstOffset - 1 when empty */
  lastOffset: number;
}

export interface KafkaTopicInfo {
  name: string;
  vhost: string;
  partitions: KafkaPartitionInfo[];
}

export interface KafkaMemberInfo {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** the assignment the leader sent with SyncGroup (consumer protocol), decoded */
  assignments: { topic: string; partitions: number[] }[];
}

export interface KafkaGroupOffset {
  topic: string;
  partition: number;
  queue: string;
  /** Kafka's committed offset (the next record to read), null when the group committed none */
  committedOffset: number | null;
  /** readable records past the committed offset; null without a committed offset */
  lag: number | null;
}

export interface KafkaGroupInfo {
  groupId: string;
  /** the vhost whose streams hold the group's committed offsets */
  vhost: string;
  state: string;
  protocolType: string;
  protocol: string;
  generation: number;
  leader: string;
  members: KafkaMemberInfo[];
  offsets: KafkaGroupOffset[];
}

export interface KafkaView {
  topics(): KafkaTopicInfo[];
  groups(): KafkaGroupInfo[];
}
