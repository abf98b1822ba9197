import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Disk } from '../../store/disk/disk.js';
import { realDisk } from '../../store/disk/real-disk.js';
import type { AppendObserver } from '../../store/log/append-observer.js';
import type { MetadataTap } from '../../store/metadata/tap.js';
import { ConfirmGate } from './confirm-gate.js';
import { LeaderSession, type SessionHost } from './leader-session.js';
import { MetadataLog } from './metadata-log.js';
import { Outbox } from './outbox.js';
import { ReplicatingDisk } from './replicating-disk.js';

export interface ReplicationLeaderOptions {
  dataDir: string;
  nodeId: string;
  /** the leader key's create revision in etcd: followers refuse an older one */
  epoch: number;
  /** the cluster secret (HMAC key of the handshake) */
  secret: string;
  /** replication listener (port 0: any free port) */
  host: string;
  port: number;
  /** an ISR member silent this long behind a held confirm is 'lagging' (default 3000) */
  ackDeadlineMs?: number;
  /** nodes in sync, this one counted, below which confirms wait (default 2) … */
  minIsr?: number;
  /** … and are refused after this long (default 10000) */
  refuseAfterMs?: number;
  /** live bytes kept for a follower while it catches up (default 64 MiB); past it, the pass ends and another begins */
  catchUpBufferBytes?: number;
  /** fencing: checked right before confirms are released; false holds them (the lease may have lapsed) */
  mayConfirm?: () => boolean;
  /** the disk under the broker's store (default the real one; tests: a gated one) */
  disk?: Disk;
  /** where warnings go (default nowhere) */
  log?: { warn(message: string, data?: Record<string, unknown>): void; info?(message: string, data?: Record<string, unknown>): void };
}

export interface FollowerStatus {
  id: string;
  connected: boolean;
  /** last position it acked (everything up to it is durable there) */
  ackedPosition: number;
  lagBytes: number;
  lagSeconds: number;
  /** it has caught up and acked the live stream */
  caughtUp: boolean;
  /** ms since the epoch, 0 when never */
  lastAckAt: number;
  inIsr: boolean;
  /** catch-up passes of its current connection (more than one: the live stream outran the buffer) */
  catchUpPasses: number;
}

/** What `new Broker(options, { ...leader.hooks })` takes: the store's disk, its append gate, meta.db's tap. */
export interface LeaderHooks {
  disk: Disk;
  appendObserver: AppendObserver;
  metadataTap: MetadataTap;
}

/**
 * The leader side of replication (docs/clustering.md, "Replication"). Pass `hooks` to the
 * Broker on the data directory: every change to a shipped file and to meta.db goes to the
 * outbox, and every confirm waits for the in-sync set (confirm-gate.ts). Followers connect to
 * `listen()`'s port, authenticate, catch up one at a time, then receive the live stream.
 *
 * Events: 'lagging' (id) — an ISR member missed the ack deadline: remove it from the ISR in
 * etcd, then call `setIsr`; 'caught-up' (id) — a follower acked the live stream: it may join
 * the ISR; 'follower-connected' (id), 'follower-disconnected' (id).
 */
export class ReplicationLeader extends EventEmitter {
  readonly hooks: LeaderHooks;
  readonly #o: ReplicationLeaderOptions;
  readonly #outbox: Outbox;
  readonly #disk: ReplicatingDisk;
  readonly #metadata: MetadataLog;
  readonly #gate: ConfirmGate;
  readonly #sessions = new Map<string, LeaderSession>();
  readonly #all = new Set<LeaderSession>();
  #server: Server | null = null;
  #slot: Promise<void> = Promise.resolve();

  constructor(o: ReplicationLeaderOptions) {
    super();
    this.#o = o;
    const inner = o.disk ?? realDisk;
    this.#outbox = new Outbox(inner);
    this.#disk = new ReplicatingDisk(inner, o.dataDir, this.#outbox);
    this.#gate = new ConfirmGate({
      minIsr: o.minIsr ?? 2,
      refuseAfterMs: o.refuseAfterMs ?? 10_000,
      ackDeadlineMs: o.ackDeadlineMs ?? 3000,
      onLagging: (id) => this.emit('lagging', id),
      mayConfirm: o.mayConfirm,
    });
    const gate = this.#gate;
    const outbox = this.#outbox;
    // definitions wait for the same replicas as publishes (declare-ok, SUBACK, receipts)
    this.#metadata = new MetadataLog(outbox, (target, release) => gate.hold(target, release));
    this.hooks = {
      disk: this.#disk,
      metadataTap: this.#metadata,
      appendObserver: {
        written: () => undefined,
        durable: () => undefined,
        sealed: () => undefined,
        // every write of the round was enqueued (replicating-disk.ts) before its fdatasync
        hold: (_log, release) => gate.hold(outbox.position, release),
      },
    };
  }

  /** the last change put in the replication stream */
  get position(): number {
    return this.#outbox.position;
  }

  async listen(): Promise<{ host: string; port: number }> {
    if (this.#server) throw new Error('already listening');
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.#o.log?.warn('replication listener error', { error: e.message }));
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('replication listener has no address');
    return { host: a.address, port: a.port };
  }

  /** The followers whose acks every confirm waits for (the ISR in etcd, this node excluded). */
  setIsr(members: readonly string[]): void {
    this.#gate.setIsr(members.filter((m) => m !== this.#o.nodeId));
  }

  followers(): FollowerStatus[] {
    const now = Date.now();
    const isr = this.#gate.isr;
    const ids = new Set([...this.#sessions.keys(), ...isr]);
    const out: FollowerStatus[] = [];
    for (const id of ids) {
      const s = this.#sessions.get(id);
      const acked = this.#gate.ackedPosition(id);
      const lag = this.#outbox.lagAfter(acked, now);
      out.push({
        id,
        connected: s !== undefined,
        ackedPosition: acked,
        lagBytes: lag.bytes,
        lagSeconds: lag.seconds,
        caughtUp: s?.caughtUp ?? false,
        lastAckAt: s?.lastAckAt ?? 0,
        inIsr: isr.includes(id),
        catchUpPasses: s?.catchUpPasses ?? 0,
      });
    }
    return out;
  }

  /** Stop: held confirms are refused, followers disconnected, the listener closed. */
  async close(): Promise<void> {
    this.#gate.close();
    for (const s of this.#all) s.close();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const session = new LeaderSession(socket, this.#sessionHost());
    this.#all.add(session);
  }

  #sessionHost(): SessionHost {
    const o = this.#o;
    return {
      leaderId: o.nodeId,
      epoch: o.epoch,
      secret: o.secret,
      dataDir: o.dataDir,
      outbox: this.#outbox,
      disk: this.#disk,
      metadata: this.#metadata,
      gate: this.#gate,
      catchUpBufferBytes: o.catchUpBufferBytes ?? 64 * 1024 * 1024,
      catchUpSlot: () => this.#takeSlot(),
      authenticated: (s) => {
        const old = this.#sessions.get(s.id as string);
        if (old && old !== s) old.close();
        this.#sessions.set(s.id as string, s);
        o.log?.info?.('replication follower connected', { follower: s.id, remote: s.remote });
        this.emit('follower-connected', s.id);
      },
      caughtUp: (s) => {
        o.log?.info?.('replication follower caught up', { follower: s.id, bytes: s.catchUpBytes, millis: Math.round(s.catchUpMillis), passes: s.catchUpPasses });
        this.emit('caught-up', s.id);
      },
      closed: (s) => {
        this.#all.delete(s);
        if (s.id !== null && this.#sessions.get(s.id) === s) {
          this.#sessions.delete(s.id);
          this.emit('follower-disconnected', s.id);
        }
      },
      warn: (message, data) => o.log?.warn(message, data),
    };
  }

  /** One full sync at a time (a catch-up reads files and fills the network: two would halve each). */
  #takeSlot(): Promise<() => void> {
    let free!: () => void;
    const mine = new Promise<void>((r) => (free = r));
    const before = this.#slot;
    this.#slot = before.then(() => mine);
    return before.then(() => free);
  }
}
