/**
 * A leader Broker with a ReplicationLeader and followers in the same process, each on its own
 * temp data dir (the roles are explicit: no etcd here). Real sockets, real files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../../src/broker.js';
import { tempDir } from '../../store/helpers.js';
import { ReplicationFollower, ReplicationLeader, type ReplicationFollowerOptions, type ReplicationLeaderOptions } from '../../../src/cluster/replication/index.js';

export const SECRET = 'test-cluster-secret';
export { tempDir, cleanupTempDirs as removeTempDirs } from '../../store/helpers.js';

export const brokerOptions = (dataDir: string, extra: BrokerOptions = {}): BrokerOptions => ({
  dataDir,
  log: { level: 'error' },
  amqp: { port: 0, host: '127.0.0.1' },
  ...extra,
});

export interface LeaderNode {
  dataDir: string;
  leader: ReplicationLeader;
  broker: Broker;
  address: { host: string; port: number };
  amqpUrl: string;
}

/** A leader: its replication listener first, then the Broker on its data dir with the leader's hooks. */
export async function startLeader(o: Partial<ReplicationLeaderOptions> = {}, extra: BrokerOptions = {}): Promise<LeaderNode> {
  const dataDir = o.dataDir ?? (await tempDir('warren-leader-'));
  const leader = new ReplicationLeader({ dataDir, nodeId: 'n1', epoch: 1, secret: SECRET, host: '127.0.0.1', port: 0, minIsr: 1, ...o });
  const address = await leader.listen();
  const broker = new Broker(brokerOptions(dataDir, extra), { ...leader.hooks });
  await broker.start();
  const a = broker.address('amqp');
  return { dataDir, leader, broker, address, amqpUrl: `amqp://guest:guest@${a.host}:${a.port}` };
}

export function newFollower(leader: { host: string; port: number }, dataDir: string, nodeId = 'f1', o: Partial<ReplicationFollowerOptions> = {}): ReplicationFollower {
  return new ReplicationFollower({ dataDir, nodeId, secret: SECRET, epoch: 1, leader, retryMs: 100, ...o });
}

/** Start a follower and wait until it has caught up. */
export async function startFollower(leader: { host: string; port: number }, dataDir: string, nodeId = 'f1', o: Partial<ReplicationFollowerOptions> = {}): Promise<ReplicationFollower> {
  const f = newFollower(leader, dataDir, nodeId, o);
  const caughtUp = new Promise<void>((resolve) => f.once('caught-up', () => resolve()));
  await f.start();
  await caughtUp;
  return f;
}

/**
 * A follower's syncs held on demand (pass `beforeSync` to the follower): while closed, each
 * batch it received waits before its fdatasync, so it acks nothing — a reply or confirm that
 * goes out meanwhile was given on the leader's disk alone.
 */
export function syncGate(): { beforeSync: () => Promise<void>; close(): void; open(): void; readonly held: number } {
  let closed = false;
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    beforeSync: () => {
      if (!closed) return Promise.resolve();
      held++;
      return new Promise<void>((r) => waiting.push(r));
    },
    close: () => void (closed = true),
    open: () => {
      closed = false;
      for (const go of waiting.splice(0)) go();
    },
    get held() {
      return held;
    },
  };
}

export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wait until `id` acked everything the leader has put in the stream so far. */
export async function synced(leader: ReplicationLeader, id = 'f1'): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  const target = leader.position;
  await until(() => (leader.followers().find((f) => f.id === id)?.ackedPosition ?? 0) >= target, `${id} to ack ${target}`);
}

/** Every shipped log file (journal and stream segments, stream indexes) under `dataDir`, by relative path. */
export function shippedFiles(dataDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const top of ['vhosts', 'streams']) {
    let ds: string[] = [];
    try {
      ds = readdirSync(join(dataDir, top));
    } catch {
      continue;
    }
    for (const d of ds) {
      const dir = join(dataDir, top, d);
      if (!statSync(dir).isDirectory()) continue;
      for (const n of readdirSync(dir)) if (/^\d{20}\.(wj|ws|wi|wt)$/.test(n)) out.set(`${top}/${d}/${n}`, readFileSync(join(dir, n)));
    }
  }
  return out;
}

/** Assert-friendly comparison: the paths that differ (missing on either side, or other bytes). */
export function differingFiles(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const out: string[] = [];
  for (const [p, buf] of a) if (!b.get(p)?.equals(buf)) out.push(`${p} (${buf.length} vs ${b.get(p)?.length ?? 'missing'})`);
  for (const p of b.keys()) if (!a.has(p)) out.push(`${p} (only on the follower)`);
  return out;
}
