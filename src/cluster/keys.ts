/**
 * The etcd key layout of a cluster (docs/clustering.md "What etcd holds"). Everything lives
 * under `/warren/<cluster>/`; leadership and the in-sync set belong to a replication *group*
 * (one, `main`, for now) so that a later split of queues into several groups led by different
 * nodes needs no change of format.
 */
export const MAIN_GROUP = 'main';

export interface ClusterKeys {
  /** prefix of every node registration */
  nodes: string;
  node(id: string): string;
  /** the group's leader, on the leader's lease; its create_revision is the epoch */
  leader: string;
  /** the group's in-sync set: written only in a transaction guarded by the epoch */
  isr: string;
  /** the shared replication secret when `cluster.secret` is not configured */
  secret: string;
  /** the last failover: { from, to, epoch, at } */
  lastFailover: string;
}

export function clusterKeys(cluster: string, group = MAIN_GROUP): ClusterKeys {
  const root = `/warren/${cluster}/`;
  return {
    nodes: `${root}nodes/`,
    node: (id) => `${root}nodes/${id}`,
    leader: `${root}groups/${group}/leader`,
    isr: `${root}groups/${group}/isr`,
    secret: `${root}secret`,
    lastFailover: `${root}groups/${group}/last-failover`,
  };
}

/** A node's registration, on its lease. */
export interface NodeRecord {
  id: string;
  /** the IP other nodes reach it at */
  advertised: string;
  /** replication listener, "host:port" */
  replication: string;
  /** client listeners by config key ('amqp.port' → 5672): where a standby proxies to */
  clientPorts: Record<string, number>;
  role: 'standby' | 'leader';
  startedAt: number;
}

/** The leader key's value. */
export interface LeaderRecord {
  id: string;
  replication: string;
}

/** The ISR key's value: `members` includes the leader. */
export interface IsrRecord {
  epoch: number;
  members: string[];
}

export function parseJson<T>(text: string | null | undefined): T | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
