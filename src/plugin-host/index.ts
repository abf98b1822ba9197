/**
 * The plugin host's entry module, as plugins see it: what a plugin is (`PluginManifest`,
 * `RunningPlugin`), what it gets (`PluginContext`), and the read-only views plugins offer one
 * another (the Kafka plugin's topics and groups).
 */
export type { ConfigKey, PluginConfig, PluginContext, PluginManifest, RunningPlugin, ListenerAddress } from './manifest.js';
export type { ClusterView, ClusterStatus, FollowerStatus } from './cluster-view.js';
export type { KafkaView, KafkaTopicInfo, KafkaPartitionInfo, KafkaGroupInfo, KafkaGroupOffset, KafkaMemberInfo } from './kafka-view.js';
