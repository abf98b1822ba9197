/**
 * One node of a cluster, from start to exit (docs/clustering.md "A node's life"):
 *
 * 1. register under a lease (lifeline.ts keeps it alive off the main loop), as a standby:
 *    no broker runs; client ports forward to the leader (proxy/standby-proxy.ts) and the
 *    replication follower copies the leader's logs into the data directory;
 * 2. every 250 ms read the cluster (one etcd snapshot): follow the leader it names, or, when
 *    there is none and this node is in the ISR, campaign (cluster-state.ts);
 * 3. on winning: stop forwarding, stop the follower (all it received is durable), write the
 *    ISR under the new epoch, start the replication leader, open the data directory as a
 *    Broker (ordinary crash recovery) with replication's hooks, then register as leader;
 * 4. exit with code 3 the moment leadership is lost or the lease may have lapsed — no
 *    in-process demotion (LavinMQ's rule): the supervisor starts it again as a standby.
 *
 * ISR changes come from replication's events and go to etcd first (epoch-guarded), then to
 * the replication leader: 'lagging' removes a member (its confirms are held until then),
 * 'caught-up' adds one.
 */
import { Etcd3 } from 'etcd3';
import { Broker, type BrokerSetup } from '../broker.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../log/index.js';
import type { PluginManifest } from '../plugin-host/manifest.js';
import { realDisk } from '../store/disk/real-disk.js';
import { setBeforeListen } from '../util/listen.js';
import { clientPorts } from './client-ports.js';
import { ClusterState, type ClusterSnapshot } from './cluster-state.js';
import { runHook } from './hooks.js';
import { clusterKeys, type NodeRecord } from './keys.js';
import { Lifeline } from './lifeline.js';
import { resolveNodeId } from './node-id.js';
import { acceptProxyHeaders } from './proxy/proxy-accept.js';
import { plainAddress } from './proxy/proxy-header.js';
import { StandbyProxy } from './proxy/standby-proxy.js';
import { realReplication, type FollowerReplication, type LeaderReplication, type ReplicationFactory } from './replication-port.js';
import type { ClusterStatus } from './status.js';
import { watchedDisk } from './watched-disk.js';

/** Exit code when leadership is lost or the lease may have lapsed (as LavinMQ). */
export const EXIT_LEADERSHIP_LOST = 3;

const TICK_MS = 250;
const FENCE_CHECK_MS = 100;

export interface ClusterNodeOptions {
  config: ResolvedConfig;
  manifests: readonly PluginManifest[];
  /** what a single-node `warren start` gives its Broker (config sources, default ports) */
  setup: BrokerSetup;
  log: Logger;
  replication?: ReplicationFactory;
  /** ends the process; default process.exit */
  exit?: (code: number) => void;
}

type Role = 'new' | 'standby' | 'leader' | 'stopping';

export class ClusterNode {
  readonly #o: ClusterNodeOptions;
  readonly #log: Logger;
  readonly #replication: ReplicationFactory;
  #role: Role = 'new';
  #nodeId = '';
  #secret = '';
  #epoch = 0;
  #etcd: Etcd3 | null = null;
  #state: ClusterState | null = null;
  #lifeline: Lifeline | null = null;
  #proxy: StandbyProxy | null = null;
  #snapshot: ClusterSnapshot | null = null;
  #trusted = new Set<string>();
  #follower: { epoch: number; repl: FollowerReplication } | null = null;
  #leaderRepl: LeaderReplication | null = null;
  #broker: Broker | null = null;
  #isr: string[] = [];
  #isrQueue: Promise<void> = Promise.resolve();
  #lastLeaderSeen: string | null = null;
  #tickTimer: NodeJS.Timeout | null = null;
  #fenceTimer: NodeJS.Timeout | null = null;

  constructor(o: ClusterNodeOptions) {
    this.#o = o;
    this.#log = o.log.child({ cluster: o.config.cluster.name });
    this.#replication = o.replication ?? realReplication;
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get role(): Role {
    return this.#role;
  }

  get broker(): Broker | null {
    return this.#broker;
  }

  async start(): Promise<void> {
    const { config } = this.#o;
    const c = config.cluster;
    this.#nodeId = resolveNodeId(config.dataDir, c.nodeId);
    this.#etcd = new Etcd3({ hosts: c.etcdEndpoints, dialTimeout: 3000 });
    this.#state = new ClusterState(this.#etcd, clusterKeys(c.name));
    this.#lifeline = new Lifeline({
      etcd: this.#etcd,
      endpoints: c.etcdEndpoints,
      ttlMs: c.leaseTtlMs,
      watchdogMs: c.watchdogTimeoutMs,
      onLeaseLost: () => this.#fatal('etcd says this node\'s lease is gone'),
    });
    const leaseId = await this.#lifeline.start();
    this.#secret = c.secret !== '' ? c.secret : await this.#state.sharedSecret();
    await this.#state.register(this.#record('standby'), leaseId);
    this.#role = 'standby';
    this.#proxy = new StandbyProxy({ ports: clientPorts(config, this.#o.manifests), target: (key) => this.#leaderTarget(key), log: this.#log, mqttServerReference: c.mqttServerReference });
    await this.#proxy.listen();
    this.#fenceTimer = setInterval(() => this.#checkFence(), FENCE_CHECK_MS);
    this.#log.info('cluster node started as standby', { node: this.#nodeId, lease: leaseId, etcd: c.etcdEndpoints });
    this.#scheduleTick(0);
  }

  #record(role: NodeRecord['role']): NodeRecord {
    const c = this.#o.config.cluster;
    const ports: Record<string, number> = {};
    for (const p of clientPorts(this.#o.config, this.#o.manifests)) ports[p.key] = p.port;
    return { id: this.#nodeId, advertised: c.advertisedAddress, replication: `${c.advertisedAddress}:${c.replicationPort}`, clientPorts: ports, role, startedAt: Date.now() };
  }

  #checkFence(): void {
    if (this.#role === 'stopping' || !this.#lifeline) return;
    if (!this.#lifeline.leaseValid()) this.#fatal(`the lease may have expired (last keep-alive ${Date.now() - this.#lifeline.lastKeepAlive} ms ago)`);
  }

  /** Leadership lost or the lease may have lapsed: stop at once, before anything else is confirmed. */
  #fatal(reason: string): void {
    if (this.#role === 'stopping') return;
    this.#log.error('cluster node exiting', { reason, role: this.#role, epoch: this.#epoch, code: EXIT_LEADERSHIP_LOST });
    (this.#o.exit ?? process.exit)(EXIT_LEADERSHIP_LOST);
  }

  #scheduleTick(delay = TICK_MS): void {
    if (this.#role === 'stopping') return;
    this.#tickTimer = setTimeout(() => {
      this.#tick().catch((e: unknown) => this.#log.warn('cluster: etcd read failed', { error: (e as Error)?.message ?? String(e) }))
        .finally(() => this.#scheduleTick());
    }, delay);
  }

  async #tick(): Promise<void> {
    const snap = await this.#state!.snapshot();
    if (this.#role === 'stopping') return;
    this.#snapshot = snap;
    this.#trusted = new Set(snap.nodes.map((n) => plainAddress(n.advertised)));
    if (snap.leader && snap.leader.id !== this.#nodeId) this.#lastLeaderSeen = snap.leader.id;
    if (this.#role === 'leader') {
      if (snap.leader?.epoch !== this.#epoch) this.#fatal(snap.leader ? `node ${snap.leader.id} leads now (epoch ${snap.leader.epoch})` : 'the leader key is gone');
      return;
    }
    if (snap.leader) {
      if (snap.leader.id !== this.#nodeId) this.#follow(snap.leader.epoch, snap.leader.replication, snap.leader.id);
      this.#proxy?.leaderChanged(snap.leader.epoch);
      return;
    }
    if (!ClusterState.eligible(snap, this.#nodeId) || !this.#lifeline!.leaseValid()) return;
    const c = this.#o.config.cluster;
    const epoch = await this.#state!.campaign(snap, { id: this.#nodeId, replication: `${c.advertisedAddress}:${c.replicationPort}` }, this.#lifeline!.leaseId);
    if (epoch !== null) await this.#becomeLeader(epoch, snap);
  }

  #follow(epoch: number, replication: string, leaderId: string): void {
    if (this.#follower?.epoch === epoch) return;
    const previous = this.#follower;
    const [host, port] = splitHostPort(replication);
    const repl = this.#replication.follower({ dataDir: this.#o.config.dataDir, nodeId: this.#nodeId, secret: this.#secret, epoch, leader: { host, port } });
    this.#follower = { epoch, repl };
    repl.on('error', (e: Error) => this.#log.warn('replication follower error', { error: e.message }));
    void (async () => {
      await previous?.repl.stop();
      if (this.#follower?.repl !== repl) return;
      this.#log.info('following leader', { leader: leaderId, epoch, replication });
      runHook(this.#o.config.cluster.onFollower, 'follower', this.#nodeId, epoch, this.#log);
      await repl.start();
    })().catch((e: unknown) => this.#log.warn('replication follower failed to start', { error: (e as Error)?.message ?? String(e) }));
  }

  async #becomeLeader(epoch: number, snap: ClusterSnapshot): Promise<void> {
    const c = this.#o.config.cluster;
    this.#role = 'leader';
    this.#epoch = epoch;
    this.#log.info('won leadership', { node: this.#nodeId, epoch, previous: this.#lastLeaderSeen });
    await this.#proxy?.close();
    this.#proxy = null;
    await this.#follower?.repl.stop();
    this.#follower = null;
    const registered = new Set(snap.nodes.map((n) => n.id));
    const isr = snap.isr ? snap.isr.members.filter((id) => registered.has(id)) : [];
    this.#isr = [...new Set([...isr, this.#nodeId])].sort();
    if (!(await this.#state!.writeIsr(epoch, this.#isr))) return this.#fatal('leadership lost before the ISR was written');
    const repl = this.#replication.leader({
      dataDir: this.#o.config.dataDir, nodeId: this.#nodeId, epoch, secret: this.#secret,
      host: c.advertisedAddress, port: c.replicationPort, minIsr: c.minIsr,
      disk: watchedDisk(realDisk, () => this.#lifeline!.syncStarted()), log: this.#log.child({ replication: 'leader' }),
      // Fencing at the moment of release: no confirm once the lease may have lapsed.
      mayConfirm: () => this.#lifeline!.leaseValid(),
    });
    this.#leaderRepl = repl;
    repl.on('lagging', (id: string) => this.#changeIsr(id, false));
    repl.on('caught-up', (id: string) => this.#changeIsr(id, true));
    await repl.listen();
    repl.setIsr(this.#isr.filter((id) => id !== this.#nodeId));
    setBeforeListen((server) => acceptProxyHeaders(server, (address) => this.#trusted.has(address)));
    const hooks = repl.hooks;
    const broker = new Broker({}, {
      ...this.#o.setup,
      ...hooks,
      logger: this.#o.log,
      cluster: this,
    });
    this.#broker = broker;
    await broker.start();
    await this.#state!.register(this.#record('leader'), this.#lifeline!.leaseId);
    await this.#state!.writeLastFailover(epoch, this.#lastLeaderSeen, this.#nodeId);
    this.#log.info('leading', { node: this.#nodeId, epoch, isr: this.#isr });
    runHook(c.onLeader, 'leader', this.#nodeId, epoch, this.#log);
  }

  /** Add or remove `id` in the ISR: etcd first (epoch-guarded), then replication. Serialized. */
  #changeIsr(id: string, add: boolean): void {
    this.#isrQueue = this.#isrQueue.then(async () => {
      if (this.#role !== 'leader' || id === this.#nodeId || this.#isr.includes(id) === add) return;
      const next = add ? [...this.#isr, id].sort() : this.#isr.filter((m) => m !== id);
      for (;;) {
        try {
          if (!(await this.#state!.writeIsr(this.#epoch, next))) return this.#fatal('leadership lost while writing the ISR');
          break;
        } catch (e) {
          this.#log.warn('ISR write failed; retrying', { error: (e as Error)?.message ?? String(e) });
          await new Promise((r) => setTimeout(r, 200));
          if (this.#role !== 'leader') return;
        }
      }
      this.#isr = next;
      this.#leaderRepl?.setIsr(next.filter((m) => m !== this.#nodeId));
      this.#log.info(add ? 'follower joined the ISR' : 'follower removed from the ISR', { follower: id, isr: next, epoch: this.#epoch });
    });
  }

  #leaderTarget(key: string): { host: string; port: number; epoch: number } | null {
    const snap = this.#snapshot;
    if (!snap?.leader || snap.leader.id === this.#nodeId) return null;
    const record = snap.nodes.find((n) => n.id === snap.leader!.id);
    const port = record?.role === 'leader' ? record.clientPorts[key] : undefined;
    return port === undefined ? null : { host: record!.advertised, port, epoch: snap.leader.epoch };
  }

  /** What operators see (warren ctl cluster_status, /api/cluster, /metrics). */
  status(): ClusterStatus {
    const snap = this.#snapshot;
    return {
      cluster: this.#o.config.cluster.name,
      node: this.#nodeId,
      role: this.#role,
      epoch: snap?.leader?.epoch ?? null,
      leader: snap?.leader?.id ?? null,
      isr: this.#role === 'leader' ? [...this.#isr] : (snap?.isr?.members ?? []),
      minIsr: this.#o.config.cluster.minIsr,
      nodes: (snap?.nodes ?? []).map((n) => ({ id: n.id, advertised: n.advertised, role: n.role, startedAt: n.startedAt })),
      followers: this.#leaderRepl?.followers() ?? [],
      lastFailover: snap?.lastFailover ?? null,
    };
  }

  /** Graceful stop (SIGTERM): the lease is revoked, so another node takes over at once. */
  async stop(): Promise<void> {
    if (this.#role === 'stopping') return;
    const wasLeader = this.#role === 'leader';
    this.#role = 'stopping';
    if (this.#tickTimer) clearTimeout(this.#tickTimer);
    if (this.#fenceTimer) clearInterval(this.#fenceTimer);
    await this.#proxy?.close();
    if (wasLeader && this.#broker) {
      // Rounds held for followers that are gone (stopped first, or down) would hold the
      // store's close forever: nobody drops them from the ISR while stopping. Past the ack
      // deadline they are refused (a nack: the client never got a promise), then it closes.
      const refuse = setTimeout(() => void this.#leaderRepl?.close(), 3000);
      await this.#broker.stop();
      clearTimeout(refuse);
    }
    await this.#leaderRepl?.close();
    await this.#follower?.repl.stop();
    await this.#lifeline?.stop(true);
    this.#etcd?.close();
    setBeforeListen(null);
  }
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, ''), Number(s.slice(i + 1))];
}
