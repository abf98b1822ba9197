import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { PROTOCOL_VERSION, followerMac, leaderMac, macEquals, newNonce } from './auth.js';
import { listShipped } from './catch-up.js';
import { FollowerStore } from './follower-store.js';
import { decodeOps } from './ops.js';
import { ackFrame, FrameError, FrameReader, FrameType, jsonFrame, parseJson, type Frame } from './wire.js';

export interface ReplicationFollowerOptions {
  dataDir: string;
  nodeId: string;
  secret: string;
  /** the lowest epoch this node will follow (it also never follows one older than it followed before) */
  epoch: number;
  leader: { host: string; port: number };
  /** reconnect after a lost connection (default true; waits `retryMs`, default 500) */
  retry?: boolean;
  retryMs?: number;
  /** tests: awaited before each batch's sync (hold it to prove no confirm goes out without this follower) */
  beforeSync?: () => Promise<void>;
}

export interface FollowerPosition {
  /** the last live position acked to the leader */
  acked: number;
  /** the last metadata unit applied */
  metaSeq: number;
  /** the epoch of the leader followed */
  epoch: number;
}

/** Where a follower keeps the newest epoch it followed (not shipped: each node's own). */
const EPOCH_FILE = 'replication-epoch.json';

/**
 * The follower side of replication: connects to the leader, authenticates (auth.ts), reports
 * the files it holds (catch-up.ts), applies what the leader sends to its data directory
 * (follower-store.ts) and acks each received batch after one sync of it — none when nothing
 * arrived. A stream from an epoch older than one it followed before is refused (fencing).
 *
 * Events: 'caught-up' (it acked the live stream), 'connected', 'disconnected', 'error' (Error).
 */
export class ReplicationFollower extends EventEmitter {
  readonly #o: ReplicationFollowerOptions;
  readonly #store: FollowerStore;
  #socket: Socket | null = null;
  #reader = new FrameReader();
  #state: 'idle' | 'hello' | 'welcome' | 'streaming' = 'idle';
  #nonce = '';
  #leaderId = '';
  #epoch = 0;
  #acked = 0;
  #caughtUp = false;
  #queue: Frame[] = [];
  #applying: Promise<void> | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;
  #opened: Promise<void> | null = null;

  constructor(o: ReplicationFollowerOptions) {
    super();
    this.#o = o;
    this.#store = new FollowerStore(o.dataDir);
    this.#epoch = Math.max(o.epoch, this.#savedEpoch());
  }

  /** Open the data directory and connect; resolves once the leader is authenticated (catch-up follows: 'caught-up'). */
  async start(): Promise<void> {
    this.#opened ??= this.#store.open();
    await this.#opened;
    await new Promise<void>((resolve, reject) => {
      const ok = () => {
        this.off('error', bad);
        resolve();
      };
      const bad = (e: Error) => {
        this.off('connected', ok);
        reject(e);
      };
      this.once('connected', ok);
      this.once('error', bad);
      this.#connect();
    });
  }

  /** Disconnect; resolves once everything received is applied and durable, files and meta.db closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#socket?.destroy();
    while (this.#applying) await this.#applying;
    await this.#opened?.catch(() => undefined);
    await this.#store.close(true);
  }

  status(): { connected: boolean; position: FollowerPosition; caughtUp: boolean } {
    return { connected: this.#state === 'streaming', position: { acked: this.#acked, metaSeq: this.#store.metaSeq, epoch: this.#epoch }, caughtUp: this.#caughtUp };
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#reader = new FrameReader();
    this.#queue = [];
    this.#state = 'hello';
    const socket = connect(this.#o.leader.port, this.#o.leader.host);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const was = this.#state;
      this.#state = 'idle';
      this.#caughtUp = false;
      if (was === 'streaming' || was === 'welcome') this.emit('disconnected');
      if (!this.#stopped && this.#o.retry !== false) this.#retry = setTimeout(() => this.#connect(), this.#o.retryMs ?? 500);
    });
  }

  /** 'error' only when someone listens (an EventEmitter throws an unheard one) */
  #error(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  #fail(message: string): void {
    const socket = this.#socket;
    this.#error(new Error(message));
    if (socket && !socket.destroyed) socket.end(jsonFrame(FrameType.ERROR, { message }));
    socket?.destroySoon();
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      return this.#fail(e instanceof FrameError ? e.message : 'bad frame');
    }
    for (const f of frames) {
      try {
        this.#onFrame(f);
      } catch (e) {
        return this.#fail((e as Error).message);
      }
    }
  }

  #onFrame(f: Frame): void {
    if (f.type === FrameType.ERROR) {
      const m = parseJson(f.payload);
      this.#error(new Error(`leader refused: ${String(m.message)}`));
      this.#socket?.destroy();
      return;
    }
    if (this.#state === 'hello') {
      if (f.type !== FrameType.HELLO) throw new FrameError('expected HELLO');
      const m = parseJson(f.payload);
      if (m.v !== PROTOCOL_VERSION) throw new Error(`replication protocol ${String(m.v)} is not ${PROTOCOL_VERSION}`);
      if (typeof m.epoch !== 'number' || typeof m.leaderId !== 'string' || typeof m.nonce !== 'string') throw new FrameError('bad HELLO');
      if (m.epoch < this.#epoch) throw new Error(`leader epoch ${m.epoch} is older than ${this.#epoch}: refused`);
      this.#leaderId = m.leaderId;
      this.#nonce = newNonce();
      this.#pendingEpoch = m.epoch;
      this.#state = 'welcome';
      this.#socket?.write(jsonFrame(FrameType.AUTH, { nodeId: this.#o.nodeId, epoch: this.#epoch, nonce: this.#nonce, mac: followerMac(this.#o.secret, m.nonce, this.#o.nodeId) }));
      return;
    }
    if (this.#state === 'welcome') {
      if (f.type !== FrameType.WELCOME) throw new FrameError('expected WELCOME');
      const m = parseJson(f.payload);
      if (!macEquals(m.mac, leaderMac(this.#o.secret, this.#nonce, this.#leaderId, this.#pendingEpoch))) throw new Error('leader failed authentication');
      this.#saveEpoch(this.#pendingEpoch);
      this.#state = 'streaming';
      this.emit('connected');
      this.#enqueue({ type: FrameType.STATE_PLEASE, payload: Buffer.alloc(0) });
      return;
    }
    if (f.type === FrameType.OPS || f.type === FrameType.LIVE || f.type === FrameType.STATE_PLEASE) return this.#enqueue(f);
    throw new FrameError(`unexpected frame ${f.type}`);
  }

  #pendingEpoch = 0;

  #enqueue(f: Frame): void {
    this.#queue.push(f);
    this.#applying ??= this.#applyLoop().catch((e: unknown) => this.#fail(`apply failed: ${(e as Error).message}`)).finally(() => (this.#applying = null));
  }

  /** Apply what arrived, one sync per batch, then ack; repeat while frames keep coming. */
  async #applyLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const socket = this.#socket;
      let position = 0;
      let live = -1;
      let wantState = false;
      let wrote = false;
      for (const f of batch) {
        if (f.type === FrameType.OPS) {
          const { position: p, ops } = decodeOps(f.payload);
          await this.#store.apply(ops);
          wrote = true;
          if (p > position) position = p;
        } else if (f.type === FrameType.LIVE) {
          const p = parseJson(f.payload).position;
          live = typeof p === 'number' ? p : 0;
        } else wantState = true;
      }
      if (wrote) {
        await this.#o.beforeSync?.();
        await this.#store.sync();
      }
      if (socket === null || socket.destroyed) continue;
      const ackAt = Math.max(position, live);
      if (ackAt > 0 || live >= 0) {
        if (ackAt > this.#acked) this.#acked = ackAt;
        socket.write(ackFrame(ackAt));
      }
      if (live >= 0 && !this.#caughtUp) {
        this.#caughtUp = true;
        this.emit('caught-up');
      }
      if (wantState) socket.write(jsonFrame(FrameType.STATE, { files: await listShipped(this.#o.dataDir) }));
    }
  }

  #savedEpoch(): number {
    try {
      const v = JSON.parse(readFileSync(join(this.#o.dataDir, EPOCH_FILE), 'utf8')) as { epoch?: unknown };
      return typeof v.epoch === 'number' ? v.epoch : 0;
    } catch {
      return 0;
    }
  }

  /** Persist the newest epoch followed (written aside, synced, renamed in). */
  #saveEpoch(epoch: number): void {
    if (epoch <= this.#savedEpoch()) {
      this.#epoch = Math.max(this.#epoch, epoch);
      return;
    }
    const path = join(this.#o.dataDir, EPOCH_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify({ epoch, leader: this.#leaderId }));
    const fd = openSync(`${path}.tmp`, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
    this.#epoch = epoch;
  }
}
