/**
 * What a cluster node (src/cluster) shows plugins of itself: the management API's
 * /api/cluster and /metrics read it through PluginContext.cluster(), null on a single node.
 */

/** One follower as the leader's replication sees it. */
export interface FollowerStatus {
  id: string;
  connected: boolean;
  ackedPosition?: unknown;
  /** bytes the leader has written that this follower has not acknowledged */
  lagBytes: number;
  /** age of the oldest unacknowledged write, seconds */
  lagSeconds: number;
  caughtUp: boolean;
  lastAckAt?: number | null;
}

export interface ClusterStatus {
  cluster: string;
  /** this node */
  node: string;
  role: string;
  epoch: number | null;
  leader: string | null;
  /** in-sync nodes, the leader included */
  isr: string[];
  minIsr: number;
  nodes: { id: string; advertised: string; role: string; startedAt: number }[];
  /** the leader's view of each follower's replication (empty on a standby) */
  followers: FollowerStatus[];
  lastFailover: { from: string | null; to: string; epoch: number; at: number } | null;
}

export interface ClusterView {
  status(): ClusterStatus;
}
