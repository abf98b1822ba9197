import type { DurableListener } from '../store/durable-waiters.js';
import type { MessageStore } from '../store/message-store.js';

/**
 * A place that makes appends durable in position order and says so: a stream log (offsets),
 * the MQTT plugin's SQLite retained store (batches). Positions below `committedOffset` are
 * durable; `whenCommitted` calls back once a position is, or with the error that stopped it.
 */
export interface DurableLog {
  readonly committedOffset: number;
  whenCommitted(position: number, listener: DurableListener, token: number): void;
}

/**
 * The durability points of one publish: everything it wrote that a confirm, PUBACK, PUBREC or
 * receipt must wait for — its journal record and its appends to stream logs (and, for an MQTT
 * retained publish, the retained store's write). Owned by the caller and reused (no allocation
 * per publish): `Publisher.publish` fills the one it is given, so nothing about a publish is left
 * on the vhost for a caller to read afterwards, and a publish made inside another (a failure
 * reply, a dead-letter) fills its own, never the outer one's.
 */
export class DurabilityPoints {
  /** the journal holding the publish's record, and that record's LSN (0: none) */
  journal: MessageStore | null = null;
  lsn = 0;
  /** other logs written, each with the newest position written there (released in order, so it covers the older) */
  readonly logs: DurableLog[] = [];
  readonly positions: number[] = [];
  /** a place refused the write (its store failed): the acknowledgement is negative */
  failure: Error | null = null;

  clear(): void {
    this.journal = null;
    this.lsn = 0;
    this.failure = null;
    if (this.logs.length === 0) return;
    this.logs.length = 0;
    this.positions.length = 0;
  }

  noteJournal(store: MessageStore, lsn: number): void {
    this.journal = store;
    if (lsn > this.lsn) this.lsn = lsn;
  }

  noteLog(log: DurableLog, position: number): void {
    for (let i = 0; i < this.logs.length; i++) {
      if (this.logs[i] !== log) continue;
      if (position > this.positions[i]) this.positions[i] = position;
      return;
    }
    this.logs.push(log);
    this.positions.push(position);
  }

  /** Take over `other`'s points too (the caller acknowledges both writes with one answer). */
  add(other: DurabilityPoints): void {
    if (other.journal !== null) this.noteJournal(other.journal, other.lsn);
    for (let i = 0; i < other.logs.length; i++) this.noteLog(other.logs[i], other.positions[i]);
    this.failure ??= other.failure;
  }
}

/**
 * Call `listener.onDurable(token, error)` exactly once, when every point is durable (at once,
 * synchronously, when they all are already), or with the first error: a failed write or
 * fdatasync must become a negative acknowledgement, never a positive one. One pending place
 * (the common case: the journal, or one stream) registers the listener directly; several share
 * a small countdown.
 */
export function whenAllDurable(points: DurabilityPoints, listener: DurableListener, token: number): void {
  if (points.failure !== null) return listener.onDurable(token, points.failure);
  const store = points.journal;
  const journalPending = store !== null && points.lsn > store.durableLsn;
  let pending = journalPending ? 1 : 0;
  for (let i = 0; i < points.logs.length; i++) if (points.positions[i] >= points.logs[i].committedOffset) pending++;
  if (pending === 0) return listener.onDurable(token, null);
  const target = pending === 1 ? listener : new Countdown(pending, listener, token);
  if (journalPending) store.whenDurable(points.lsn, target, token);
  for (let i = 0; i < points.logs.length; i++) {
    if (points.positions[i] >= points.logs[i].committedOffset) points.logs[i].whenCommitted(points.positions[i], target, token);
  }
}

/** Answers once every part is durable; the first failure answers negatively, and only once. */
class Countdown implements DurableListener {
  #left: number;
  #answered = false;
  constructor(
    count: number,
    readonly listener: DurableListener,
    readonly token: number,
  ) {
    this.#left = count;
  }

  onDurable(_token: number, error: Error | null): void {
    this.#left--;
    if (this.#answered) return;
    if (error !== null || this.#left === 0) {
      this.#answered = true;
      this.listener.onDurable(this.token, error);
    }
  }
}
