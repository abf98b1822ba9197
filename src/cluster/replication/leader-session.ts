import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { PROTOCOL_VERSION, followerMac, leaderMac, macEquals, newNonce } from './auth.js';
import { listShipped, planCatchUp, type FileEntry, type Step } from './catch-up.js';
import type { ConfirmGate } from './confirm-gate.js';
import type { MetadataLog } from './metadata-log.js';
import { encodeOps, OpKind, snapshotOps, type Op } from './ops.js';
import type { FrameSink, Outbox } from './outbox.js';
import type { ReplicatingDisk } from './replicating-disk.js';
import { encodeFrame, FrameError, FrameReader, FrameType, jsonFrame, parseJson, type Frame } from './wire.js';

/** What a session needs from its leader. */
export interface SessionHost {
  readonly leaderId: string;
  readonly epoch: number;
  readonly secret: string;
  readonly dataDir: string;
  readonly outbox: Outbox;
  readonly disk: ReplicatingDisk;
  readonly metadata: MetadataLog;
  readonly gate: ConfirmGate;
  /** live bytes kept for a follower while it catches up; past it, another pass */
  readonly catchUpBufferBytes: number;
  /** one full sync at a time: resolves with the function that frees the slot */
  catchUpSlot(): Promise<() => void>;
  authenticated(session: LeaderSession): void;
  caughtUp(session: LeaderSession): void;
  closed(session: LeaderSession): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

const HANDSHAKE_MS = 5000;
const CHUNK = 4 * 1024 * 1024;
/** unsent bytes a live follower may have queued before it is dropped (it reconnects and catches up) */
const MAX_QUEUED = 256 * 1024 * 1024;

type State = 'hello' | 'catching-up' | 'live' | 'closed';

/**
 * One follower's connection on the leader: handshake (auth.ts), catch-up passes (catch-up.ts)
 * while live frames are kept aside, then the live stream; acks go to the confirm gate.
 */
export class LeaderSession {
  id: string | null = null;
  state: State = 'hello';
  caughtUp = false;
  lastAckAt = 0;
  /** bytes sent by catch-up passes, and how long they took */
  catchUpBytes = 0;
  catchUpMillis = 0;
  /** catch-up passes run (more than one: the live stream outran the buffer) */
  catchUpPasses = 0;
  readonly #socket: Socket;
  readonly #host: SessionHost;
  readonly #reader = new FrameReader();
  readonly #nonce = newNonce();
  #liveFrom = 0;
  #kept: Buffer[] = [];
  #keptBytes = 0;
  #overflow = false;
  #timer: NodeJS.Timeout | null;

  constructor(socket: Socket, host: SessionHost) {
    this.#socket = socket;
    this.#host = host;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#closed());
    this.#timer = setTimeout(() => this.fail('handshake timeout'), HANDSHAKE_MS);
    socket.write(jsonFrame(FrameType.HELLO, { v: PROTOCOL_VERSION, leaderId: host.leaderId, epoch: host.epoch, nonce: this.#nonce }));
  }

  get remote(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  /** Tell the peer why (best effort) and close. */
  fail(message: string): void {
    if (this.state === 'closed') return;
    this.#host.warn('replication connection refused', { follower: this.id, remote: this.remote, reason: message });
    if (!this.#socket.destroyed) this.#socket.end(jsonFrame(FrameType.ERROR, { message }));
    this.#socket.destroySoon();
    this.#closed();
  }

  close(): void {
    this.#socket.destroy();
    this.#closed();
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      return this.fail(e instanceof FrameError ? e.message : 'bad frame');
    }
    for (const f of frames) {
      if (this.state === 'closed') return;
      try {
        this.#onFrame(f);
      } catch (e) {
        return this.fail((e as Error).message);
      }
    }
  }

  #onFrame(f: Frame): void {
    if (this.state === 'hello') {
      if (f.type !== FrameType.AUTH) throw new FrameError('expected AUTH');
      return this.#onAuth(parseJson(f.payload));
    }
    if (f.type === FrameType.ACK) {
      if (f.payload.length !== 8) throw new FrameError('bad ACK');
      const position = Number(f.payload.readBigUInt64BE(0));
      this.lastAckAt = Date.now();
      if (position > 0) this.#host.gate.acked(this.id as string, position);
      if (this.state === 'live' && !this.caughtUp && position >= this.#liveFrom) {
        this.caughtUp = true;
        this.#host.caughtUp(this);
      }
      return;
    }
    if (f.type === FrameType.STATE && this.state === 'catching-up') {
      const files = parseJson(f.payload).files;
      if (!Array.isArray(files)) throw new FrameError('bad STATE');
      void this.#catchUp(files as FileEntry[]).catch((e: unknown) => this.fail(`catch-up failed: ${(e as Error).message}`));
      return;
    }
    throw new FrameError(`unexpected frame ${f.type}`);
  }

  #onAuth(m: Record<string, unknown>): void {
    const { nodeId, epoch, nonce, mac } = m;
    if (typeof nodeId !== 'string' || nodeId === '' || typeof nonce !== 'string' || typeof epoch !== 'number') throw new FrameError('bad AUTH');
    if (!macEquals(mac, followerMac(this.#host.secret, this.#nonce, nodeId))) throw new Error('authentication failed');
    if (epoch > this.#host.epoch) throw new Error(`follower has seen epoch ${epoch}, this leader's is ${this.#host.epoch}`);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.id = nodeId;
    this.state = 'catching-up';
    this.#socket.write(jsonFrame(FrameType.WELCOME, { mac: leaderMac(this.#host.secret, nonce, this.#host.leaderId, this.#host.epoch) }));
    this.#host.authenticated(this);
    // the follower sends STATE next
  }

  /** Live frames while catching up: kept aside, bounded. */
  readonly #keep: FrameSink = (frame) => {
    if (this.#overflow) return;
    this.#keptBytes += frame.length;
    if (this.#keptBytes > this.#host.catchUpBufferBytes) {
      this.#overflow = true;
      this.#kept = [];
      this.#keptBytes = 0;
      return;
    }
    this.#kept.push(frame);
  };

  readonly #live: FrameSink = (frame) => {
    if (this.#socket.writableLength > MAX_QUEUED) return this.fail('follower too slow: too much unsent');
    this.#socket.write(frame);
  };

  async #catchUp(theirs: FileEntry[]): Promise<void> {
    const free = await this.#host.catchUpSlot();
    const t0 = performance.now();
    this.catchUpPasses++;
    try {
      if (this.state !== 'catching-up') return;
      const host = this.#host;
      host.outbox.detach(this.#keep);
      this.#kept = [];
      this.#keptBytes = 0;
      this.#overflow = false;
      host.outbox.attach(this.#keep);
      // changes enqueued before the attach are in the files once they finish
      await host.disk.settled();
      for (const s of host.metadata.snapshots()) for (const op of snapshotOps(s.name, s.seq, s.bytes)) await this.#send([op]);
      const steps = planCatchUp(await listShipped(host.dataDir), theirs);
      for (const s of steps) await this.#apply(s);
      if (this.state !== 'catching-up') return;
      if (this.#overflow) {
        // the live stream outran the buffer: another pass from what the follower holds now
        this.#socket.write(jsonFrame(FrameType.STATE_PLEASE, {}));
        return;
      }
      host.outbox.detach(this.#keep);
      for (const frame of this.#kept) this.#socket.write(frame);
      // every frame up to here was kept (and is now written) or is in the files sent
      this.#liveFrom = host.outbox.sentPosition;
      this.#kept = [];
      this.state = 'live';
      host.outbox.attach(this.#live);
      this.#socket.write(jsonFrame(FrameType.LIVE, { position: this.#liveFrom }));
    } finally {
      this.catchUpMillis += performance.now() - t0;
      free();
    }
  }

  async #apply(s: Step): Promise<void> {
    if (s.kind === 'rm') return this.#send([{ kind: OpKind.RM, path: s.path }]);
    if (s.kind === 'unlink') return this.#send([{ kind: OpKind.UNLINK, path: s.path }]);
    if (s.kind === 'truncate') return this.#send([{ kind: OpKind.TRUNCATE, path: s.path, length: s.length }]);
    const fh = await open(join(this.#host.dataDir, s.path), 'r').catch(() => null);
    if (fh === null) return; // gone since the listing: its removal is in the live stream
    try {
      const ops: Op[] = s.from === 0 ? [{ kind: OpKind.TRUNCATE, path: s.path, length: 0 }] : [];
      for (let at = s.from; at < s.to || ops.length > 0; ) {
        const n = Math.min(CHUNK, s.to - at);
        if (n > 0) {
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await fh.read(buf, 0, n, at);
          if (bytesRead > 0) ops.push({ kind: OpKind.WRITE, path: s.path, at, bytes: buf.subarray(0, bytesRead) });
          at += bytesRead > 0 ? bytesRead : n;
          this.catchUpBytes += bytesRead;
          if (bytesRead === 0) at = s.to; // shrank since the listing (cut by its writer): the stream says how
        }
        await this.#send(ops.splice(0));
      }
    } finally {
      await fh.close();
    }
  }

  /** Send catch-up ops (position 0: no live position), waiting while the socket is full. */
  async #send(ops: Op[]): Promise<void> {
    if (ops.length === 0 || this.state === 'closed') return;
    if (!this.#socket.write(encodeFrame(FrameType.OPS, encodeOps(0, ops)))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#socket.off('drain', done);
          this.#socket.off('close', done);
          resolve();
        };
        this.#socket.on('drain', done);
        this.#socket.on('close', done);
      });
    }
  }

  #closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    this.#host.outbox.detach(this.#keep);
    this.#host.outbox.detach(this.#live);
    this.#kept = [];
    this.#host.closed(this);
  }
}
