/**
 * The `cluster.*` keys as one typed object. `etcdEndpoints` empty means single node: nothing
 * of src/cluster runs (docs/clustering.md).
 */
import type { ConfigValue } from './schema.js';

export interface ClusterSettings {
  /** etcd client URLs; [] for a single node */
  etcdEndpoints: string[];
  /** etcd key prefix /warren/<name>/ */
  name: string;
  /** the IP other nodes reach this one at */
  advertisedAddress: string;
  minIsr: number;
  /** '' until resolved from the data directory (src/cluster/node-id.ts) */
  nodeId: string;
  replicationPort: number;
  /** '' for the one kept in etcd */
  secret: string;
  leaseTtlMs: number;
  watchdogTimeoutMs: number;
  mqttServerReference: boolean;
  onLeader: string;
  onFollower: string;
}

export function clusterSettings(get: (key: string) => ConfigValue): ClusterSettings {
  return {
    etcdEndpoints: get('cluster.etcd_endpoints') as string[],
    name: get('cluster.name') as string,
    advertisedAddress: get('cluster.advertised_address') as string,
    minIsr: get('cluster.min_isr') as number,
    nodeId: get('cluster.node_id') as string,
    replicationPort: get('cluster.replication_port') as number,
    secret: get('cluster.secret') as string,
    leaseTtlMs: get('cluster.lease_ttl') as number,
    watchdogTimeoutMs: get('cluster.watchdog_timeout') as number,
    mqttServerReference: get('cluster.mqtt_server_reference') as boolean,
    onLeader: get('cluster.on_leader') as string,
    onFollower: get('cluster.on_follower') as string,
  };
}
