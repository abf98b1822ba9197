/** What operators see of a cluster: `warren ctl cluster_status`, GET /api/cluster, /metrics. */
import type { FollowerStatus } from './replication-port.js';

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
