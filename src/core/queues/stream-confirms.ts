import type { DurableListener } from '../../store/durable-waiters.js';
import type { MessageStore } from '../../store/message-store.js';
import type { StreamLog } from '../../store/stream/stream-log.js';

/**
 * The stream appends made by the publish being handled (a vhost keeps one and clears it at
 * every publish): its publisher confirm waits for each of those records to be committed —
 * after the stream's group commit, as journal confirms wait for the journal's.
 */
export class StreamAppends {
  readonly logs: StreamLog[] = [];
  readonly offsets: number[] = [];

  get count(): number {
    return this.logs.length;
  }

  note(log: StreamLog, offset: number): void {
    this.logs.push(log);
    this.offsets.push(offset);
  }

  clear(): void {
    if (this.logs.length === 0) return;
    this.logs.length = 0;
    this.offsets.length = 0;
  }
}

/**
 * Arrange `listener.onDurable(token, …)` for a publish once everything it wrote is durable:
 * its journal record (`lsn`, 0 = none) and its stream appends. The common cases — one stream,
 * or only the journal — register the listener directly; several durable places share a small
 * countdown. @returns false when nothing is pending (confirm now)
 */
export function confirmWhenDurable(store: MessageStore | null, lsn: number, appends: StreamAppends, listener: DurableListener, token: number): boolean {
  const journalPending = store !== null && lsn > 0 && store.durableLsn < lsn;
  let streams = 0;
  for (let i = 0; i < appends.count; i++) if (appends.offsets[i] >= appends.logs[i].committedOffset) streams++;
  const pending = (journalPending ? 1 : 0) + streams;
  if (pending === 0) return false;
  const target = pending === 1 ? listener : new Countdown(pending, listener, token);
  if (journalPending) (store as MessageStore).whenDurable(lsn, target, token);
  for (let i = 0; i < appends.count; i++) {
    if (appends.offsets[i] >= appends.logs[i].committedOffset) appends.logs[i].whenCommitted(appends.offsets[i], target, token);
  }
  return true;
}

/** Confirms once every part is durable; the first failure confirms negatively. */
class Countdown implements DurableListener {
  #left: number;
  #failed = false;
  constructor(
    count: number,
    readonly listener: DurableListener,
    readonly token: number,
  ) {
    this.#left = count;
  }

  onDurable(_token: number, error: Error | null): void {
    if (error && !this.#failed) {
      this.#failed = true;
      this.listener.onDurable(this.token, error);
    }
    if (--this.#left === 0 && !this.#failed) this.listener.onDurable(this.token, null);
  }
}
