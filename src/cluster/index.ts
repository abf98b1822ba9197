/**
 * High availability on etcd (docs/clustering.md): the node lifecycle, fencing, finding the
 * leader, and (src/cluster/replication/) the log shipping. Nothing here runs unless
 * `cluster.etcd_endpoints` is set.
 */
export { ClusterNode, EXIT_LEADERSHIP_LOST, type ClusterNodeOptions } from './cluster-node.js';
export { runClusterNode, EXIT_CLUSTER_START_FAILED } from './run.js';
export type { ClusterStatus } from './status.js';
export { clusterKeys, MAIN_GROUP, type NodeRecord, type LeaderRecord, type IsrRecord } from './keys.js';
export type { ReplicationFactory, LeaderReplication, FollowerReplication, FollowerStatus } from './replication-port.js';
