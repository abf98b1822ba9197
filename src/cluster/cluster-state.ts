/**
 * Every etcd read and write of the node lifecycle, in one place: registration, one consistent
 * snapshot of the cluster, the leadership transaction and the epoch-guarded ISR writes.
 *
 * Consensus stays in etcd: who leads is decided by one transaction — the leader key absent
 * AND the ISR key unchanged since this node read it and found itself a member (so a node that
 * was dropped from the ISR between the read and the write cannot lead). The very first leader
 * of an empty cluster (no ISR key yet) bootstraps the ISR with itself. The epoch is the
 * leader key's create_revision: unique, increasing, and the guard of every ISR write
 * (`leader.create_revision == epoch`), so a deposed leader's write fails.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { parseJson, type ClusterKeys, type IsrRecord, type LeaderRecord, type NodeRecord } from './keys.js';

export interface ClusterSnapshot {
  /** the etcd revision this snapshot was read at */
  revision: number;
  nodes: NodeRecord[];
  leader: (LeaderRecord & { epoch: number }) | null;
  /** null when no leader ever wrote one (an empty cluster) */
  isr: (IsrRecord & { modRevision: number }) | null;
  lastFailover: { from: string | null; to: string; epoch: number; at: number } | null;
}

export class ClusterState {
  readonly #etcd: Etcd3;
  readonly keys: ClusterKeys;
  readonly #root: string;

  constructor(etcd: Etcd3, keys: ClusterKeys) {
    this.#etcd = etcd;
    this.keys = keys;
    this.#root = keys.nodes.slice(0, keys.nodes.length - 'nodes/'.length);
  }

  /** Put this node's registration on its lease. */
  async register(record: NodeRecord, leaseId: string): Promise<void> {
    await this.#etcd.put(this.keys.node(record.id)).value(JSON.stringify(record)).lease(leaseId).exec();
  }

  /** Everything under /warren/<cluster>/ in one read (one revision). */
  async snapshot(): Promise<ClusterSnapshot> {
    const res = await this.#etcd.getAll().prefix(this.#root).exec();
    const out: ClusterSnapshot = { revision: Number(res.header.revision), nodes: [], leader: null, isr: null, lastFailover: null };
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      const value = kv.value.toString();
      if (key.startsWith(this.keys.nodes)) {
        const n = parseJson<NodeRecord>(value);
        if (n) out.nodes.push(n);
      } else if (key === this.keys.leader) {
        const l = parseJson<LeaderRecord>(value);
        if (l) out.leader = { ...l, epoch: Number(kv.create_revision) };
      } else if (key === this.keys.isr) {
        const i = parseJson<IsrRecord>(value);
        if (i) out.isr = { ...i, modRevision: Number(kv.mod_revision) };
      } else if (key === this.keys.lastFailover) {
        out.lastFailover = parseJson(value);
      }
    }
    out.nodes.sort((a, b) => a.id.localeCompare(b.id));
    return out;
  }

  /** Whether `nodeId` may campaign given `snap`: no leader, and a member of the ISR (or no ISR yet). */
  static eligible(snap: ClusterSnapshot, nodeId: string): boolean {
    return snap.leader === null && (snap.isr === null || snap.isr.members.includes(nodeId));
  }

  /**
   * Try to become the leader: one transaction, true only when the leader key is absent and
   * the ISR key is exactly as `snap` read it. @returns the new epoch, or null when lost
   */
  async campaign(snap: ClusterSnapshot, leader: LeaderRecord, leaseId: string): Promise<number | null> {
    if (!ClusterState.eligible(snap, leader.id)) return null;
    const res = await this.#etcd
      .if(this.keys.leader, 'Create', '==', 0)
      .and(this.keys.isr, 'Mod', '==', snap.isr?.modRevision ?? 0)
      .then(this.#etcd.put(this.keys.leader).value(JSON.stringify(leader)).lease(leaseId))
      .commit();
    return res.succeeded ? Number(res.header.revision) : null;
  }

  /** Write the ISR, only if `epoch` is still the leader key's create_revision. @returns whether written */
  async writeIsr(epoch: number, members: readonly string[]): Promise<boolean> {
    const record: IsrRecord = { epoch, members: [...new Set(members)].sort() };
    const res = await this.#etcd
      .if(this.keys.leader, 'Create', '==', epoch)
      .then(this.#etcd.put(this.keys.isr).value(JSON.stringify(record)))
      .commit();
    return res.succeeded;
  }

  /** Record a failover (informational, for operators), guarded like the ISR. */
  async writeLastFailover(epoch: number, from: string | null, to: string): Promise<void> {
    await this.#etcd
      .if(this.keys.leader, 'Create', '==', epoch)
      .then(this.#etcd.put(this.keys.lastFailover).value(JSON.stringify({ from, to, epoch, at: Date.now() })))
      .commit();
  }

  /** The cluster's replication secret: the one in etcd, made (put-if-absent) by the first node to ask. */
  async sharedSecret(): Promise<string> {
    const fresh = randomBytes(24).toString('base64url');
    await this.#etcd.if(this.keys.secret, 'Create', '==', 0).then(this.#etcd.put(this.keys.secret).value(fresh)).commit();
    const stored = await this.#etcd.get(this.keys.secret).string();
    if (!stored) throw new Error(`cluster secret missing at ${this.keys.secret}`);
    return stored;
  }
}
