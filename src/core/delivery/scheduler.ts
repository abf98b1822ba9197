import { MinHeap } from '../../util/min-heap.js';

/** Something to run at a given time. An object, not a closure: delayed messages can be many. */
export interface ScheduledTask {
  run(): void;
}

/**
 * Runs tasks at their due time with a single timer armed for the earliest one. Delayed-exchange
 * messages and redelivery back-off use it; delays have no upper bound (Node's setTimeout caps
 * one wait at ~24.8 days, so long waits re-arm).
 */
export class Scheduler {
  readonly #heap = new MinHeap<ScheduledTask>();
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;

  get size(): number {
    return this.#heap.size;
  }

  schedule(dueAt: number, task: ScheduledTask): void {
    this.#heap.push(dueAt, task);
    if (dueAt < this.#armedFor) this.#arm();
  }

  /** Drop everything (vhost shutdown). */
  clear(): void {
    this.#heap.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Infinity;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const next = this.#heap.peekKey();
    if (next === undefined) {
      this.#armedFor = Infinity;
      return;
    }
    this.#armedFor = next;
    const wait = Math.min(Math.max(0, next - Date.now()), 0x7fffffff);
    this.#timer = setTimeout(() => this.#fire(), wait);
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = null;
    const now = Date.now();
    while (this.#heap.size > 0 && (this.#heap.peekKey() as number) <= now) {
      const task = this.#heap.pop() as ScheduledTask;
      try {
        task.run();
      } catch {
        // a task's failure must not stop the others; tasks report their own errors
      }
    }
    this.#arm();
  }
}
