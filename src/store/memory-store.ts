import type { DurableListener } from './journal.js';
import type { MessageStore, MessageToStore, ReadListener, ReadRequest, StoredMessage } from './message-store.js';
import { NO_FILE_GAUGES, StoreMetrics, snapshotMetrics, type StoreMetricsSnapshot } from './metrics.js';

/** One stored message, shared by every queue it reached (as a MSG record is). */
interface MemoryRecord {
  msgId: number;
  exchange: string;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
  publishedAt: number;
  expiresAt: number;
  priority: number;
}

interface MemoryQueue {
  /** seq → record, in insertion (= seq) order */
  entries: Map<number, MemoryRecord>;
  lastSeq: number;
  bytes: number;
}

/**
 * The `MessageStore` contract without files: for transient use and for tests. Same rules
 * and the same asynchrony as `FileStore` — an append is "durable" at the next turn of the
 * event loop, waiters are released in LSN order, reads answer asynchronously — so code
 * written against one behaves the same on the other. Nothing survives `close`.
 */
export class MemoryStore implements MessageStore {
  readonly durable = false;
  readonly #queues = new Map<number, MemoryQueue>();
  readonly #deleted = new Set<number>();
  readonly #counters = new StoreMetrics();
  #msgId = 0;
  #lsn = 0;
  #durableLsn = 0;
  #commitScheduled = false;
  #waiters: { lsn: number; listener: DurableListener; token: number }[] = [];
  readonly #durableListeners: ((lsn: number) => void)[] = [];
  #closed = false;

  get durableLsn(): number {
    return this.#durableLsn;
  }
  get failure(): Error | null {
    return null;
  }

  appendMessage(
    message: MessageToStore,
    properties: Buffer,
    expiresAt: number,
    queueIds: ArrayLike<number>,
    seqs: ArrayLike<number>,
    count: number,
    _flags = 0,
  ): number {
    if (this.#closed) throw new Error('message store is closed');
    if (count < 1 || count > 0xffff) throw new RangeError(`a message needs 1 to 65535 target queues, not ${count}`);
    for (let i = 0; i < count; i++) {
      const q = queueIds[i];
      if (this.#deleted.has(q)) throw new RangeError(`queue ${q} was deleted`);
      for (let j = 0; j < i; j++) if (queueIds[j] === q) throw new RangeError(`queue ${q} named twice`);
      const last = this.#queues.get(q)?.lastSeq ?? 0;
      if (!(seqs[i] > last) || !Number.isSafeInteger(seqs[i])) {
        throw new RangeError(`queue ${q}: seq ${seqs[i]} must be an integer above ${last}`);
      }
    }
    const record: MemoryRecord = {
      msgId: ++this.#msgId,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties,
      body: message.body,
      publishedAt: message.publishedAt,
      expiresAt,
      priority: message.priority,
    };
    for (let i = 0; i < count; i++) {
      let q = this.#queues.get(queueIds[i]);
      if (!q) this.#queues.set(queueIds[i], (q = { entries: new Map(), lastSeq: 0, bytes: 0 }));
      q.entries.set(seqs[i], record);
      q.lastSeq = seqs[i];
      q.bytes += record.body.length;
    }
    this.#counters.msgRecords++;
    this.#counters.userPayloadBytes += properties.length + message.body.length;
    this.#scheduleCommit();
    return ++this.#lsn;
  }

  ack(queueId: number, seq: number): boolean {
    const q = this.#queues.get(queueId);
    const r = q?.entries.get(seq);
    if (!q || !r) return false;
    q.entries.delete(seq);
    q.bytes -= r.body.length;
    this.#counters.ackRecords++;
    return true;
  }

  purge(queueId: number, upToSeq: number, kept: Iterable<number> = []): number {
    const q = this.#queues.get(queueId);
    if (!q) return 0;
    const keep = new Set(kept);
    let removed = 0;
    for (const [seq, r] of q.entries) {
      if (seq > upToSeq) break;
      if (keep.has(seq)) continue;
      q.entries.delete(seq);
      q.bytes -= r.body.length;
      removed++;
    }
    if (removed > 0) this.#counters.purgeRecords++;
    return removed;
  }

  deleteQueue(queueId: number): number {
    this.#deleted.add(queueId);
    const q = this.#queues.get(queueId);
    if (!q) return 0;
    this.#queues.delete(queueId);
    if (q.entries.size > 0) this.#counters.queueDeleteRecords++;
    return q.entries.size;
  }

  markDelivered(): void {
    // nothing survives a restart here, so there is nothing to remember
  }

  whenDurable(lsn: number, listener: DurableListener, token: number): void {
    let i = this.#waiters.length;
    while (i > 0 && this.#waiters[i - 1].lsn > lsn) i--;
    this.#waiters.splice(i, 0, { lsn, listener, token });
    this.#scheduleCommit();
  }

  onDurable(listener: (durableLsn: number) => void): void {
    this.#durableListeners.push(listener);
  }

  flush(): Promise<void> {
    return new Promise((resolve) => this.whenDurable(this.#lsn, { onDurable: () => resolve() }, 0));
  }

  read(request: ReadRequest, listener: ReadListener, token: number): void {
    const out: StoredMessage[] = [];
    const q = this.#queues.get(request.queueId);
    const maxBytes = request.maxBytes ?? Infinity;
    const priority = request.priority ?? -1;
    let bytes = 0;
    if (q) {
      for (const [seq, r] of q.entries) {
        if (seq <= request.afterSeq || (priority >= 0 && r.priority !== priority)) continue;
        out.push({ queueId: request.queueId, seq, ...r, redelivered: false });
        bytes += r.body.length;
        if (out.length >= request.maxCount || bytes >= maxBytes) break;
      }
    }
    setImmediate(() => {
      // like the file store: entries removed while the read was in flight are left out
      const now = this.#queues.get(request.queueId);
      const live = out.filter((message) => now?.entries.has(message.seq));
      this.#counters.messagesRead += live.length;
      listener.onMessages(token, live, null);
    });
  }

  queueIds(): number[] {
    const ids: number[] = [];
    for (const [id, q] of this.#queues) if (q.entries.size > 0) ids.push(id);
    return ids.sort((a, b) => a - b);
  }

  queueLength(queueId: number): number {
    return this.#queues.get(queueId)?.entries.size ?? 0;
  }

  queueBytes(queueId: number): number {
    return this.#queues.get(queueId)?.bytes ?? 0;
  }

  nextSeq(queueId: number): number {
    return (this.#queues.get(queueId)?.lastSeq ?? 0) + 1;
  }

  metrics(): StoreMetricsSnapshot {
    let messages = 0;
    for (const q of this.#queues.values()) messages += q.entries.size;
    return snapshotMetrics(this.#counters, {
      ...NO_FILE_GAUGES,
      messagesOnDisk: 0,
      indexEntriesResident: messages,
      pendingAppendBytes: 0,
      durableLsn: this.#durableLsn,
      readOnly: false,
    });
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#queues.clear();
  }

  #scheduleCommit(): void {
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    setImmediate(() => {
      this.#commitScheduled = false;
      this.#durableLsn = this.#lsn;
      this.#counters.flushes++;
      let i = 0;
      const w = this.#waiters;
      while (i < w.length && w[i].lsn <= this.#durableLsn) {
        w[i].listener.onDurable(w[i].token, null);
        i++;
      }
      this.#waiters = w.slice(i);
      for (const l of this.#durableListeners) l(this.#durableLsn);
    });
  }
}
