/**
 * Replication of a Warren node's data directory from a leader to followers (docs/clustering.md,
 * "Replication"). Who leads, the epoch and the in-sync set come from etcd (src/cluster/, not
 * this module); this module ships the bytes and enforces the confirm rule.
 */
export { ReplicationLeader, type ReplicationLeaderOptions, type FollowerStatus, type LeaderHooks } from './leader.js';
export { ReplicationFollower, type ReplicationFollowerOptions, type FollowerPosition } from './follower.js';
export { NotReplicatedError, isNotReplicated } from '../../store/log/append-observer.js';
