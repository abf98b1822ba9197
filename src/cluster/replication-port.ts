/**
 * What the node lifecycle needs from replication (src/cluster/replication/, HA-CONTRACT.md),
 * as interfaces: the node drives a `ReplicationLeader` while it leads and a
 * `ReplicationFollower` while it stands by. `realReplication` is the one used; the seam lets
 * the lifecycle be read (and changed) without the byte shipping in view.
 */
import type { EventEmitter } from 'node:events';
import type { BrokerSetup } from '../broker.js';
import type { Disk } from '../store/disk/disk.js';
import type { Logger } from '../log/index.js';
import { ReplicationFollower, ReplicationLeader } from './replication/index.js';
import type { FollowerStatus } from '../plugin-host/cluster-view.js';

export type { FollowerStatus };


export interface LeaderReplication extends EventEmitter {
  /** merged into the leader's BrokerSetup */
  readonly hooks: Partial<BrokerSetup>;
  listen(): Promise<{ host: string; port: number }>;
  setIsr(members: readonly string[]): void;
  followers(): FollowerStatus[];
  close(): Promise<void>;
}

export interface FollowerReplication extends EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): { connected: boolean; caughtUp: boolean; position?: unknown };
}

export interface ReplicationFactory {
  leader(o: {
    dataDir: string; nodeId: string; epoch: number; secret: string; host: string; port: number;
    minIsr: number;
    /** the store's disk (the node's, timed for the watchdog): replication wraps it */
    disk: Disk;
    log: Logger;
    /** the lease check, evaluated when confirms are about to be released: false holds them */
    mayConfirm: () => boolean;
  }): LeaderReplication;
  follower(o: {
    dataDir: string; nodeId: string; secret: string; epoch: number; leader: { host: string; port: number };
  }): FollowerReplication;
}

export const realReplication: ReplicationFactory = {
  leader: (o) => new ReplicationLeader(o),
  follower: (o) => new ReplicationFollower(o),
};
