import { join } from 'node:path';
import { writeCleanMarker } from './clean-shutdown.js';
import { loadStoreState } from './load-state.js';
import { copyCancelForward, copyMessageForward, type CopyContext } from './copy-forward.js';
import { Reclaimer, type ReclaimHost } from './compaction.js';
import { MSG_FLAG_BODY_PARTS, MSG_FLAG_TRANSIENT, RecordType, countRuns, encodePurgeRecord, encodeQueueDeleteRecord, encodeRunsRecord, type MsgFields, type MsgView } from './format.js';
import { FLAG_DELIVERED, FLAG_REDELIVERED } from './index-chunk.js';
import { Journal, type DurableListener } from './journal.js';
import { DirectorySync } from './directory-sync.js';
import { isNotReplicated } from './log/append-observer.js';
import { LargeBodies } from './large-bodies.js';
import type { LargeBodyWriter } from './large-body.js';
import { MessageReader, type ReadContext } from './message-reader.js';
import type { MessageStore, MessageToStore, ReadListener, ReadRequest } from './message-store.js';
import { StoreMetrics, snapshotMetrics, storeGauges, type StoreMetricsSnapshot } from './metrics.js';
import { ReadPlan, type QueueIndex } from './queue-index.js';
import type { RecoveryReport, StoreLog } from './recovery.js';
import { writeSnapshotOrNot } from './snapshot.js';
import { SPILL_DIR, StoreState } from './store-state.js';
import { resolveStoreOptions, type FileStoreOptions, type ResolvedStoreOptions } from './store-options.js';
import type { ScannedRecord } from './segment-scanner.js';
import type { SegmentInfo, SegmentTable } from './segment-table.js';

export type { FileStoreOptions };

/**
 * The durable message store of one vhost: a segmented journal with group commit
 * (journal.ts), per-queue compact indexes with spill (queue-index.ts), liveness per segment
 * (segment-table.ts), reclaim and compaction (compaction.ts), positional reads
 * (message-reader.ts) and open-time recovery (recovery.ts). docs/store.md has the design.
 */
export class FileStore implements MessageStore, ReclaimHost {
  readonly durable = true;
  readonly dir: string;
  readonly segments: SegmentTable;
  readonly counters: StoreMetrics;
  readonly maxRecordSize: number;
  readonly log: StoreLog;
  readonly disk: ResolvedStoreOptions['disk'];
  /** the journal directory's fsync: segment creations and reclaim's unlinks share it */
  readonly directory: DirectorySync;
  /** what recovery found and cut at open */
  readonly recovery: RecoveryReport;
  readonly #journal: Journal;
  readonly #reader: MessageReader;
  readonly #reclaimer: Reclaimer;
  readonly #large: LargeBodies;
  readonly #state: StoreState;
  readonly #indexes: Map<number, QueueIndex>;
  readonly #deletedQueues = new Set<number>();
  readonly #journalId: number;
  #msgId: number;
  #failure: Error | null = null;
  #closed = false;
  #activeInfo: SegmentInfo | null = null;
  /** segments of MSGs killed by acks not yet encoded (they become the ACK records' cancel targets) */
  readonly #ackTargets = new Set<number>();
  readonly #fields: MsgFields = { msgId: 0, publishedAt: 0, expiresAt: 0, priority: 0, flags: 0, exchange: '', routingKey: '' };
  readonly #scratchIndexes: QueueIndex[] = [];
  readonly #copyContext: CopyContext;
  readonly #readContext: ReadContext;

  private constructor(o: ResolvedStoreOptions, state: StoreState, report: RecoveryReport, counters: StoreMetrics) {
    this.dir = o.dir;
    this.disk = o.disk;
    this.maxRecordSize = o.maxRecordSize;
    this.log = o.log;
    this.recovery = report;
    this.counters = counters;
    this.#state = state;
    this.segments = state.segments;
    this.#indexes = state.indexes;
    this.#msgId = state.maxMsgId;
    this.#journalId = o.journalId;
    counters.noteRecovery(report);

    this.directory = new DirectorySync(o.disk, o.dir);
    this.#journal = new Journal({
      directory: this.directory,
      disk: o.disk,
      dir: o.dir,
      journalId: o.journalId,
      firstSegment: state.lastSegment + 1,
      segmentSize: o.segmentSize,
      roundBytes: o.roundBytes,
      elideMinBytes: o.elideMinBytes,
      maxRecordSize: o.maxRecordSize,
      elideWindowMs: o.elideWindowMs,
      durability: o.durability,
      metrics: this.counters,
      appendObserver: o.appendObserver,
      hooks: {
        segmentSealed: (segment, size) => {
          this.segments.sealed(segment, size, Date.now());
          this.#reclaimer.kick();
        },
        acksEncoded: (segments) => {
          for (const s of segments) this.segments.addCancelTargets(s, this.#ackTargets);
          this.#ackTargets.clear();
        },
        flushed: () => {
          if (this.segments.dirty) this.#reclaimer.kick();
        },
        failed: (error) => {
          this.#failure = error;
          this.log('error', `journal write failed, the store is read-only: ${error.message}`);
          o.onFailure?.(error);
        },
      },
    });
    this.#reader = new MessageReader(o.disk, o.dir, this.counters, o.log);
    this.#readContext = {
      segments: this.segments,
      journal: this.#journal,
      isLive: (queueId, seq) => this.#indexes.get(queueId)?.isLive(seq) ?? false,
      afterRead: () => {
        if (this.segments.dirty) this.#reclaimer.kick();
      },
      bodyOf: (queueId, seq, partList) => this.#large.bodyOf(queueId, seq, partList),
    };
    this.#large = new LargeBodies(this.segments, this.#journal, this.#reader, this.counters);
    this.#large.adopt(state.bodyEntries);
    this.#copyContext = {
      journal: this.#journal,
      segments: this.segments,
      counters: this.counters,
      index: (queueId) => this.#indexes.get(queueId),
      noteAppend: () => this.#noteAppend(),
    };
    this.#reclaimer = new Reclaimer(this, o.reclaim);
  }

  /** Open (creating or recovering) the store in `options.dir`. */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    const o = resolveStoreOptions(options);
    const counters = new StoreMetrics();
    const { state, report, isNew } = await loadStoreState(o, counters);
    const store = new FileStore(o, state, report, counters);
    o.log(
      'info',
      isNew ? `journal ${o.journalId} created in a new directory` : `journal ${o.journalId} ${report.fromSnapshot ? 'loaded from its snapshot' : 'recovered'}: ${report.messages} messages in ${report.queues} queues in ${report.millis.toFixed(0)} ms${report.uncleanShutdown ? ' (after an unclean stop)' : ''}`,
    );
    store.#reclaimer.start();
    return store;
  }

  get durableLsn(): number {
    return this.#journal.durableLsn;
  }
  get failure(): Error | null {
    return this.#failure;
  }
  get pendingBytes(): number {
    return this.#journal.pendingBytes;
  }

  // ---- writes -----------------------------------------------------------------------------------

  /** A body written to the journal as it arrives (large-body.ts), for a later appendMessage to name. */
  beginBody(size: number): LargeBodyWriter {
    if (!this.#writable()) throw this.#failure ?? new RangeError('store closed');
    return this.#large.begin(++this.#msgId, size, () => this.#noteAppend());
  }

  appendMessage(
    message: MessageToStore,
    properties: Buffer,
    expiresAt: number,
    queueIds: ArrayLike<number>,
    seqs: ArrayLike<number>,
    count: number,
    flags = 0,
  ): number {
    if (count < 1 || count > 0xffff) throw new RangeError(`a message needs 1 to 65535 target queues, not ${count}`);
    const indexes = this.#state.targetIndexes(queueIds, seqs, count, this.#deletedQueues, this.#scratchIndexes);
    const f = this.#fields;
    f.msgId = ++this.#msgId;
    f.publishedAt = message.publishedAt;
    f.expiresAt = expiresAt;
    f.priority = message.priority;
    f.flags = flags;
    f.exchange = message.exchange;
    f.routingKey = message.routingKey;
    // a body in parts: the record holds its part list, the index its real size
    const bodyRef = message.bodyRef ?? null;
    const body = bodyRef === null ? message.body : bodyRef.encodeParts();
    const bodySize = bodyRef === null ? body.length : bodyRef.size;
    if (bodyRef !== null) f.flags |= MSG_FLAG_BODY_PARTS;
    const j = this.#journal;
    const lsn = j.appendMessage(f, queueIds, seqs, count, properties, body);
    const seg = j.lastSegment;
    const off = j.lastOffset;
    const len = j.lastLength;
    for (let i = 0; i < count; i++) {
      indexes[i].append(seqs[i], seg, off, len, bodySize, count, message.priority, expiresAt, 0);
    }
    if (bodyRef !== null) this.#large.named(bodyRef, queueIds, seqs, count);
    if ((flags & MSG_FLAG_TRANSIENT) === 0) this.counters.userPayloadBytes += properties.length + bodySize;
    this.#noteAppend();
    return lsn;
  }

  ack(queueId: number, seq: number, consumed = false): boolean {
    const idx = this.#indexes.get(queueId);
    if (!idx) return false;
    const segment = idx.remove(seq);
    if (segment < 0) return false;
    this.#journal.settle(segment, idx.removedOffset, consumed);
    this.#large.left(queueId, seq);
    // an entry that left memory must leave the log too; after a write failure the log keeps
    // it and it comes back after a restart (at-least-once)
    if (this.#writable()) {
      this.#ackTargets.add(segment);
      this.#journal.appendAck(queueId, seq, consumed);
    }
    return true;
  }

  purge(queueId: number, upToSeq: number, kept: Iterable<number> = []): number {
    const idx = this.#indexes.get(queueId);
    if (!idx) return 0;
    // never beyond what was appended: a later message must not fall under this purge
    const upTo = Math.min(upToSeq, idx.lastSeq);
    const keptSet = new Set(kept);
    this.#state.collecting = new Set();
    try {
      const removed = idx.purge(upTo, keptSet);
      if (removed > 0) this.#large.sweep(queueId, (seq) => idx.isLive(seq));
      if (removed > 0 && this.#writable()) {
        // invariant 3 of replay.ts: the record names every entry ≤ upTo still live
        const keptLive = [...keptSet].filter((s) => s <= upTo && idx.isLive(s)).sort((a, b) => a - b);
        this.#appendCancel(encodePurgeRecord(queueId, upTo, keptLive));
      }
      return removed;
    } finally {
      this.#state.collecting = null;
    }
  }

  deleteQueue(queueId: number): number {
    this.#deletedQueues.add(queueId);
    const idx = this.#indexes.get(queueId);
    if (!idx) return 0;
    this.#indexes.delete(queueId);
    this.#state.collecting = new Set();
    try {
      const removed = idx.clear();
      this.#large.sweep(queueId, () => false);
      if (removed > 0 && this.#writable()) this.#appendCancel(encodeQueueDeleteRecord(queueId));
      return removed;
    } finally {
      this.#state.collecting = null;
    }
  }

  markDelivered(queueId: number, seq: number): void {
    this.#indexes.get(queueId)?.markDelivered(seq);
  }

  // ---- durability ---------------------------------------------------------------------------------

  whenDurable(lsn: number, listener: DurableListener, token: number): void {
    this.#journal.whenDurable(lsn, listener, token);
  }

  onDurable(listener: (durableLsn: number) => void): void {
    this.#journal.onDurable(listener);
  }

  flush(): Promise<void> {
    return this.#journal.flush();
  }

  // ---- reads -------------------------------------------------------------------------------------------

  read(request: ReadRequest, listener: ReadListener, token: number): void {
    const plan = new ReadPlan();
    const idx = this.#indexes.get(request.queueId);
    if (idx) idx.collect(request.afterSeq, request.maxCount, request.maxBytes ?? Infinity, request.priority ?? -1, plan);
    this.#reader.readEntries(request.queueId, plan, this.#readContext, listener, token);
  }

  queueIds(): number[] {
    const out: number[] = [];
    for (const [id, idx] of this.#indexes) if (idx.length > 0) out.push(id);
    return out.sort((a, b) => a - b);
  }

  queueLength(queueId: number): number {
    return this.#indexes.get(queueId)?.length ?? 0;
  }

  queueBytes(queueId: number): number {
    return this.#indexes.get(queueId)?.bodyBytes ?? 0;
  }

  nextSeq(queueId: number): number {
    return this.#state.nextSeq(queueId);
  }

  // ---- operations -----------------------------------------------------------------------------------

  metrics(): StoreMetricsSnapshot {
    const j = this.#journal;
    return snapshotMetrics(this.counters, storeGauges(this.segments, this.#state.indexTotals(), this.#reclaimer.debtBytes(), j.pendingBytes, j.durableLsn, this.#reader.openFiles, this.#failure !== null));
  }

  /** Run reclaim (deletion and compaction) until nothing more can be done now. */
  reclaimNow(): Promise<void> {
    return this.#reclaimer.settle();
  }

  /** Start a new segment with the next append (the current one becomes reclaimable). */
  rollover(): void {
    if (this.#writable()) this.#journal.rollover();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reclaimer.stop();
    let clean = this.#failure === null;
    if (clean) {
      // AMQP 0-9-1 basic.deliver "redelivered": what was delivered before the stop comes back flagged
      for (const [queueId, idx] of this.#indexes) {
        const seqs = idx.seqsWithFlags(FLAG_DELIVERED | FLAG_REDELIVERED);
        if (seqs.length > 0) this.#journal.appendRecord(encodeRunsRecord(RecordType.DELIVERED, queueId, seqs, countRuns(seqs)));
      }
    }
    try {
      await this.#journal.close();
    } catch (e) {
      clean = false;
      this.log('error', `journal close failed: ${(e as Error).message}`);
    }
    this.#reader.closeAll();
    await this.directory.close().catch(() => undefined);
    clean &&= this.#failure === null;
    // the snapshot does not record which entries name a body in parts: the next start scans
    if (clean && !this.#large.held) {
      this.#state.lastSegment = Math.max(this.#state.lastSegment, this.#journal.activeSegment);
      this.#state.maxMsgId = this.#msgId;
      await writeSnapshotOrNot(this.disk, this.dir, this.#journalId, this.#state, this.log);
    }
    for (const idx of this.#indexes.values()) idx.close();
    await this.disk.rm(join(this.dir, SPILL_DIR));
    if (clean) await writeCleanMarker(this.disk, this.dir, this.#journal.appendedLsn);
  }

  // ---- ReclaimHost (compaction) ---------------------------------------------------------------------------

  activeSegment(): number {
    return this.#journal.activeSegment;
  }

  appendCount(): number {
    return this.#journal.appendCount;
  }

  writable(): boolean {
    return this.#writable();
  }

  copyMessage(buf: Buffer, rec: ScannedRecord, view: MsgView, segment: number): number {
    return copyMessageForward(this.#copyContext, buf, rec, view, segment);
  }

  copyCancel(buf: Buffer, rec: ScannedRecord, targets: Set<number>): number {
    return copyCancelForward(this.#copyContext, buf, rec, targets);
  }

  waitDurable(lsn: number): Promise<void> {
    return new Promise((resolve, reject) => this.#journal.whenDurable(lsn, { onDurable: (_t, e) => (e && !isNotReplicated(e) ? reject(e) : resolve()) }, 0));
  }

  closeReadHandle(segment: number): void {
    this.#reader.closeSegment(segment);
  }

  // ---- internals ---------------------------------------------------------------------------------------

  #writable(): boolean {
    return this.#failure === null && !this.#closed;
  }

  /** A PURGE or QUEUE_DELETE: it kills the entries just removed, whose segments were collected. */
  #appendCancel(record: Buffer): void {
    this.#journal.appendRecord(record);
    this.segments.addCancelTargets(this.#journal.lastSegment, this.#state.collecting as Set<number>);
    this.#noteAppend();
  }

  /** keep the active segment's size current (disk-use gauges) */
  #noteAppend(): void {
    const j = this.#journal;
    let info = this.#activeInfo;
    if (info === null || info.number !== j.lastSegment) info = this.#activeInfo = this.segments.ensure(j.lastSegment);
    info.size = j.lastOffset + j.lastLength;
  }
}
