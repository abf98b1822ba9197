import type { LogHistogram } from './metrics.js';

/** Told when the record it waits for is durable, or the journal failed first. */
export interface DurableListener {
  onDurable(token: number, error: Error | null): void;
}

/**
 * Waiters for durability, kept sorted by LSN in parallel arrays (no object per waiter: a
 * publisher with confirms adds one per message). Released strictly in LSN order, so a
 * channel's confirms go out in publish order.
 */
export class DurableWaiters {
  #lsn: number[] = [];
  #listener: DurableListener[] = [];
  #token: number[] = [];
  #started: number[] = [];
  #head = 0;
  readonly #latency: LogHistogram;

  /** @param latency records append → durable micros per waiter */
  constructor(latency: LogHistogram) {
    this.#latency = latency;
  }

  get size(): number {
    return this.#lsn.length - this.#head;
  }

  add(lsn: number, listener: DurableListener, token: number): void {
    let i = this.#lsn.length;
    // LSNs almost always arrive in order; keep the list sorted for the rare one that does not
    while (i > this.#head && this.#lsn[i - 1] > lsn) i--;
    const now = performance.now();
    if (i === this.#lsn.length) {
      this.#lsn.push(lsn);
      this.#listener.push(listener);
      this.#token.push(token);
      this.#started.push(now);
    } else {
      this.#lsn.splice(i, 0, lsn);
      this.#listener.splice(i, 0, listener);
      this.#token.splice(i, 0, token);
      this.#started.splice(i, 0, now);
    }
  }

  /**
   * Release every waiter up to `durableLsn`, in order; then, when `error` is set, fail the rest.
   * `refusal` (a durability gate's NotReplicatedError) is what the released waiters get instead of null.
   */
  release(durableLsn: number, error: Error | null, refusal: Error | null = null): void {
    const now = performance.now();
    const n = this.#lsn.length;
    let i = this.#head;
    while (i < n && this.#lsn[i] <= durableLsn) {
      this.#latency.record((now - this.#started[i]) * 1000);
      this.#listener[i].onDurable(this.#token[i], refusal);
      i++;
    }
    if (error) {
      while (i < n) {
        this.#listener[i].onDurable(this.#token[i], error);
        i++;
      }
    }
    this.#head = i;
    if (i === this.#lsn.length) {
      this.#lsn.length = this.#listener.length = this.#token.length = this.#started.length = 0;
      this.#head = 0;
    } else if (i > 4096 && i * 2 > this.#lsn.length) {
      // drop the released prefix once it is the larger part
      this.#lsn.splice(0, i);
      this.#listener.splice(0, i);
      this.#token.splice(0, i);
      this.#started.splice(0, i);
      this.#head = 0;
    }
  }
}
