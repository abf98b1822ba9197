/**
 * What the node lifecycle needs from replication (src/cluster/replication/, HA-CONTRACT.md),
 * as interfaces: the node drives a `ReplicationLeader` while it leads and a
 * `ReplicationFollower` while it stands by. `noReplication` runs the lifecycle without
 * shipping anything (a leader then confirms on its own disk): used until the replication
 * module is wired in, and never in a configuration that claims to survive a lost node.
 */
import { EventEmitter } from 'node:events';
import type { BrokerSetup } from '../broker.js';
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
  }): LeaderReplication;
  follower(o: {
    dataDir: string; nodeId: string; secret: string; epoch: number; leader: { host: string; port: number };
  }): FollowerReplication;
}

class NoLeaderReplication extends EventEmitter implements LeaderReplication {
  readonly hooks = {};
  readonly #host: string;
  constructor(host: string) {
    super();
    this.#host = host;
  }
  async listen() {
    return { host: this.#host, port: 0 };
  }
  setIsr(): void {}
  followers(): FollowerStatus[] {
    return [];
  }
  async close() {}
}

class NoFollowerReplication extends EventEmitter implements FollowerReplication {
  async start() {}
  async stop() {}
  status() {
    return { connected: false, caughtUp: false };
  }
}

export const noReplication: ReplicationFactory = {
  leader: (o) => new NoLeaderReplication(o.host),
  follower: () => new NoFollowerReplication(),
};
