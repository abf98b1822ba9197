/**
 * GET /api/cluster (Warren's own path; RabbitMQ's cluster shows in /api/nodes): on a cluster
 * node, the nodes registered in etcd, the leader, the epoch, the in-sync set, each follower's
 * replication lag in bytes and seconds (the leader's view) and the last failover. 404 on a
 * single node. Monitoring tag, as /api/nodes.
 */
import type { ClusterStatus } from '../../../src/plugin-host/index.js';
import { notFound, ok, type ApiRequest } from '../http.js';
import type { Route } from '../router.js';

export function clusterJson(s: ClusterStatus) {
  return {
    cluster_name: s.cluster,
    node: s.node,
    role: s.role,
    leader: s.leader,
    epoch: s.epoch,
    isr: s.isr,
    min_isr: s.minIsr,
    nodes: s.nodes.map((n) => ({ id: n.id, advertised_address: n.advertised, role: n.role, started_at: n.startedAt, in_sync: s.isr.includes(n.id) })),
    followers: s.followers.map((f) => ({
      id: f.id, connected: f.connected, caught_up: f.caughtUp, lag_bytes: f.lagBytes, lag_seconds: f.lagSeconds, last_ack_at: f.lastAckAt ?? null,
    })),
    last_failover: s.lastFailover && { from: s.lastFailover.from, to: s.lastFailover.to, epoch: s.lastFailover.epoch, at: s.lastFailover.at },
  };
}

function cluster(req: ApiRequest) {
  const view = req.services.cluster();
  if (view === null) throw notFound(); // a single node
  return ok(clusterJson(view.status()));
}

export const clusterRoutes: Route[] = [
  { method: 'GET', path: '/api/cluster', need: 'monitoring', handler: cluster },
];
