import type { Disk } from '../disk/disk.js';
import type { AppendObserver } from './append-observer.js';
import { SegmentFileWriter, type SegmentFileSpec } from './segment-file.js';

/**
 * `fsync`: a record is durable once fdatasync returned — survives power loss (the default).
 * `write`: once the write returned — survives `kill -9` but not power loss or an OS crash;
 * what RabbitMQ classic queues, LavinMQ and NATS (by default) offer. Never call it `fsync`.
 */
export type Durability = 'fsync' | 'write';

/** Records of one segment waiting to be written: one gather write at `start`. */
export interface PendingWrite<K> {
  segment: K;
  start: number;
  bytes: number;
  buffers: Buffer[];
  /**
   * When set, the group is written as these positional writes instead (in order, within
   * `start`…`start + bytes`): the gaps between them are records left unwritten (the
   * journal's elision, ../elision.ts). A stream log never sets it.
   */
  pieces?: WritePiece[] | null;
}

/** One positional gather write of a group written in pieces. */
export interface WritePiece {
  position: number;
  buffers: Buffer[];
  bytes: number;
}

/** The counters the engine keeps (the journal's and the streams' metrics both have them). */
export interface LogCounters {
  writevCalls: number;
  fsyncs: number;
  flushes: number;
  segmentsCreated: number;
  writeErrors: number;
}

/** Histogram of fdatasync times, when the log keeps one. */
interface MicrosHistogram {
  record(value: number): void;
}

/**
 * Rounds that may wait for the replicas at once (replication's gate): while they wait, the
 * next round is written and synced. One was too few: a follower's ack (its own write, sync
 * and a network hop, on a busy machine a few scheduler wake-ups) then held the leader's disk
 * idle, and a message arriving meanwhile waited for up to three rounds.
 */
const GATE_DEPTH = 4;

/**
 * A log built on the engine: the journal (segments keyed by number) and a stream log (keyed by
 * its segment objects). It places and frames records its own way; the engine writes them.
 */
export interface LogUser<K, G extends PendingWrite<K>> {
  /** false once the log stops writing (closed, deleted): a round in progress ends */
  writable(): boolean;
  /** writes are waiting for the next round */
  hasPending(): boolean;
  /**
   * How long the next round waits before it is taken (the journal: for acks that could leave
   * records out, elision.ts): -1 not at all, 0 one turn of the event loop, else ms. Optional:
   * never. The first round of a burst is not delayed.
   */
  delayBeforeTake?(): number;
  /** the segment appends go to now */
  appendSegment(): K;
  /** the segment of the first write waiting, or null */
  firstPendingSegment(): K | null;
  /** Hand the waiting writes to a round, in log order. */
  take(): G[];
  /**
   * Whether the round needs its fdatasync (default: always). A round no confirm needs synced (the
   * journal: parts of a large body, records left out, consumers' ACK records: elision.ts
   * `mustSync`) is only written; the fdatasync of a later round of the same file, the segment's
   * seal, or a `syncWritten` caller's round covers it.
   */
  mustSync?(groups: G[]): boolean;
  /** The file to create for `segment` (its first write). */
  fileFor(segment: K): SegmentFileSpec;
  /** A round's writes returned (not yet synced): readers may read them. */
  written(groups: G[]): void;
  /**
   * A round is durable (after its fdatasync, or its writes in `write` mode): release confirms;
   * with `refusal` (the observer's durability gate refused it) their confirms get that error.
   */
  committed(groups: G[], refusal?: Error): void;
  /** `segment`'s file is complete, synced and closed. */
  sealed(segment: K, writer: SegmentFileWriter): Promise<void> | void;
  /** A write or sync failed; the engine writes nothing more (the log is read-only). */
  failed(error: Error): void;
}

export interface GroupCommitOptions {
  disk: Disk;
  durability: Durability;
  counters: LogCounters;
  fsyncMicros?: MicrosHistogram;
  /** the log's id for the observer (append-observer.ts) */
  logId: string;
  observer?: AppendObserver | null;
}

/**
 * The write side of a segmented log, shared by the journal and every stream log: group
 * commit. Appends are synchronous in the log; `schedule()` starts a round from `setImmediate`,
 * so everything appended in one event-loop turn is one gather write per segment (≤ 1,024
 * iovecs per call, partial writes continued) and one fdatasync; records appended during a
 * round form the next one. Write and sync never overlap. A segment left behind by the append
 * position is sealed — fdatasynced in both modes (a round spanning two segments seals the
 * first before its own fdatasync, which covers only the new file) — and closed.
 *
 * The first failed write or sync stops it for good (NATS's sticky `werr`): Linux may have
 * dropped the pages the failed fdatasync covered and marked them clean, so a later sync that
 * "succeeds" proves nothing about them (PostgreSQL's "fsyncgate", 2018). The log is told
 * (`failed`) and never reports durable anything from that round on.
 */
export class GroupCommit<K, G extends PendingWrite<K>> {
  readonly #o: GroupCommitOptions;
  readonly #user: LogUser<K, G>;
  readonly #observer: AppendObserver | null;
  #writer: SegmentFileWriter | null = null;
  #writerSegment: K | null = null;
  #flushing = false;
  #flushScheduled = false;
  /** the last round handed to the durability gate, committed once released (replication only) */
  #lastCommit: Promise<void> = Promise.resolve();
  /** the commits of the rounds handed to the gate, oldest first (at most GATE_DEPTH + 1 kept) */
  readonly #gated: Promise<void>[] = [];
  /** callers of syncWritten waiting for the next round's fdatasync */
  #syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #error: Error | null = null;

  constructor(user: LogUser<K, G>, options: GroupCommitOptions) {
    this.#o = options;
    this.#user = user;
    this.#observer = options.observer ?? null;
  }

  get error(): Error | null {
    return this.#error;
  }
  get flushing(): boolean {
    return this.#flushing;
  }
  get durability(): Durability {
    return this.#o.durability;
  }

  /** Start a round on the next turn unless one is scheduled or running (it loops while there is work). */
  schedule(): void {
    if (this.#flushScheduled || this.#flushing || this.#error) return;
    this.#flushScheduled = true;
    setImmediate(this.#startFlush);
  }

  /**
   * Resolves once everything written so far is fdatasynced (fsync mode): a round the log let go
   * without its sync (`mustSync` false) is synced by the next round, or by a round of its own
   * when nothing else waits. For a caller that needs all of it durable (a flush).
   */
  syncWritten(): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#o.durability !== 'fsync') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#syncWaiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /**
   * Wait for a running round, then close the open segment file (after an fdatasync when
   * `sync`). @returns the segment and its writer, or null when no file was open
   */
  async stop(sync: boolean): Promise<{ segment: K; writer: SegmentFileWriter } | null> {
    while (this.#flushing) await new Promise((r) => setImmediate(r));
    await this.#lastCommit;
    const writer = this.#writer;
    const segment = this.#writerSegment as K;
    this.#writer = null;
    this.#writerSegment = null;
    if (writer === null) return null;
    await writer.seal(sync);
    return { segment, writer };
  }

  /**
   * A log's close: wait for `flushed` (everything appended made durable); then, whether it
   * failed or not, `closing()` (the log refuses appends from here on) and `stop`, syncing the
   * open file only when `healthy()`. Rethrows the flush's failure once stopped.
   */
  async closeAfter(flushed: Promise<void>, closing: () => void, healthy: () => boolean): Promise<{ segment: K; writer: SegmentFileWriter } | null> {
    let failure: { error: unknown } | null = null;
    await flushed.catch((error: unknown) => (failure = { error }));
    closing();
    const last = await this.stop(healthy());
    if (failure !== null) throw (failure as { error: unknown }).error;
    return last;
  }

  readonly #startFlush = (): void => {
    this.#flushScheduled = false;
    void this.#flushLoop();
  };

  async #flushLoop(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    const u = this.#user;
    const c = this.#o.counters;
    const observer = this.#observer;
    // those who asked before the current round's writes: its fdatasync covers what they wait for
    // (kept out here so that a round that fails rejects them: #fail only sees later ones)
    let syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
    try {
      let first = true;
      while (this.#error === null && u.writable() && (u.hasPending() || this.#sealDue() || this.#syncWaiters.length > 0)) {
        // the first round already started from setImmediate
        const delay = first ? -1 : (u.delayBeforeTake?.() ?? -1);
        if (delay === 0) await new Promise((r) => setImmediate(r));
        else if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        first = false;
        if (this.#error !== null || !u.writable()) break;
        syncWaiters = this.#syncWaiters;
        this.#syncWaiters = [];
        const groups = u.take();
        // segment numbers of the round's writes, for the observer only
        const numbers: number[] | null = observer === null ? null : [];
        for (const g of groups) {
          const w = await this.#writerFor(g.segment);
          const pieces = g.pieces;
          if (pieces == null) await this.#write(w, g.buffers, g.start, g.bytes);
          else for (const p of pieces) await this.#write(w, p.buffers, p.position, p.bytes);
          if (observer !== null) (numbers as number[]).push(w.number);
        }
        if (groups.length > 0) {
          u.written(groups);
          const synced = this.#o.durability === 'fsync' && this.#writer !== null && (syncWaiters.length > 0 || u.mustSync === undefined || u.mustSync(groups));
          if (synced) {
            const t0 = performance.now();
            await (this.#writer as SegmentFileWriter).datasync();
            c.fsyncs++;
            this.#o.fsyncMicros?.record((performance.now() - t0) * 1000);
          }
          c.flushes++;
          if (observer !== null) {
            for (let i = 0; i < groups.length; i++) observer.durable(this.#o.logId, (numbers as number[])[i], groups[i].start + groups[i].bytes, synced);
          }
          if (observer?.hold === undefined) u.committed(groups);
          else await this.#commitWhenReleased(groups, observer.hold);
        } else if (syncWaiters.length > 0 && this.#writer?.unsynced === true) {
          await this.#writer.datasync();
          c.fsyncs++;
        }
        for (const w of syncWaiters) w.resolve();
        syncWaiters = [];
        if (this.#sealDue()) await this.#sealWriter();
      }
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.#fail(error);
      for (const w of syncWaiters) w.reject(this.#error ?? error);
    } finally {
      this.#flushing = false;
    }
  }

  async #write(w: SegmentFileWriter, buffers: Buffer[], position: number, bytes: number): Promise<void> {
    await w.writeAt(buffers, position, bytes);
    this.#o.counters.writevCalls++;
    this.#observer?.written(this.#o.logId, w.number, position, buffers, bytes);
  }

  /**
   * Replication (append-observer.ts `hold`): the round's confirms wait for the in-sync
   * replicas. Rounds are committed in order; up to GATE_DEPTH rounds may wait for the
   * replicas while the next is written and synced (the replicas receive each write as it is
   * issued), so this returns once the round GATE_DEPTH before this one is committed.
   */
  #commitWhenReleased(groups: G[], hold: NonNullable<AppendObserver['hold']>): Promise<void> | undefined {
    const u = this.#user;
    const release = new Promise<Error | null>((resolve) => hold(this.#o.logId, resolve));
    const previous = this.#lastCommit;
    this.#lastCommit = Promise.all([release, previous])
      .then(([refusal]) => (refusal === null ? u.committed(groups) : u.committed(groups, refusal)))
      .catch((e: unknown) => this.#fail(e instanceof Error ? e : new Error(String(e))));
    this.#gated.push(this.#lastCommit);
    return this.#gated.length > GATE_DEPTH ? this.#gated.shift() : undefined;
  }

  /** the open file is not where appends go and nothing more is waiting for it */
  #sealDue(): boolean {
    const seg = this.#writerSegment;
    return this.#writer !== null && seg !== this.#user.appendSegment() && this.#user.firstPendingSegment() !== seg;
  }

  async #writerFor(segment: K): Promise<SegmentFileWriter> {
    const w = this.#writer;
    if (w !== null && this.#writerSegment === segment) return w;
    if (w !== null) await this.#sealWriter();
    const created = await SegmentFileWriter.create(this.#o.disk, this.#user.fileFor(segment));
    this.#writer = created;
    this.#writerSegment = segment;
    this.#o.counters.segmentsCreated++;
    return created;
  }

  async #sealWriter(): Promise<void> {
    const w = this.#writer as SegmentFileWriter;
    const segment = this.#writerSegment as K;
    this.#writer = null;
    this.#writerSegment = null;
    // Synced in both modes: everything appended to it is written by now (later appends go to
    // the newer segment), and reclaim, retention, the cleaner and recovery trust sealed files.
    if (await w.seal(true)) this.#o.counters.fsyncs++;
    this.#observer?.sealed(this.#o.logId, w.number, w.size);
    await this.#user.sealed(segment, w);
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    const waiting = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiting) w.reject(error);
    this.#o.counters.writeErrors++;
    this.#user.failed(error);
  }
}
