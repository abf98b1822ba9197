import type { Consumer } from '../../delivery/consumer.js';

/**
 * A classic queue's consumers in delivery order and the choice of the next one (AMQP 0-9-1
 * §3.1.5 round-robin; RabbitMQ's consumer priorities and single active consumer): sorted by
 * `x-priority`, highest first, registration order within a priority; the highest priority
 * group with credit is served, round-robin inside it. With `x-single-active-consumer` only
 * the earliest registered consumer receives, whatever the priorities.
 */
export class ConsumerSelection {
  /**
   * sorted by consumer priority, highest first; registration order within a priority. A list
   * of one is made as `[consumer]` (one slot), not pushed into an empty array (which reserves
   * 16, ~150 bytes): most queues of a broker full of devices have exactly one consumer.
   */
  list: Consumer[] = [];
  /** whether any consumer ever came (auto-delete applies only after one did) */
  hadConsumers = false;
  #next = 0;
  #mixedPriorities = false;

  add(consumer: Consumer): void {
    this.hadConsumers = true;
    if (this.list.length === 0) {
      this.list = [consumer];
      this.#next = 0;
      this.#mixedPriorities = false;
      return;
    }
    const list = this.list;
    let i = list.length;
    while (i > 0 && list[i - 1].priority < consumer.priority) i--;
    list.splice(i, 0, consumer);
    if (i <= this.#next && list.length > 1) this.#next++;
    this.#mixedPriorities = list.some((c) => c.priority !== list[0].priority);
  }

  /** @returns whether it was there */
  remove(consumer: Consumer): boolean {
    const list = this.list;
    const i = list.indexOf(consumer);
    if (i < 0) return false;
    list.splice(i, 1);
    if (this.#next > i) this.#next--;
    this.#mixedPriorities = list.some((c) => c.priority !== list[0]?.priority);
    return true;
  }

  /** The single active consumer when the queue has that mode (and any consumer). */
  active(singleActive: boolean): Consumer | undefined {
    return singleActive ? this.earliest() : undefined;
  }

  hasExclusive(): boolean {
    return this.list.length > 0 && this.list.some((c) => c.exclusive);
  }

  /** The single active consumer: the earliest registered still present, whatever the priorities. */
  earliest(): Consumer | undefined {
    let first: Consumer | undefined;
    for (const c of this.list) if (!first || c.id < first.id) first = c;
    return first;
  }

  /** The consumer the next message goes to, or null when none has credit. */
  pick(singleActive: boolean): Consumer | null {
    if (singleActive) {
      const c = this.earliest();
      return c && c.hasCredit() ? c : null;
    }
    const consumers = this.list;
    const n = consumers.length;
    if (!this.#mixedPriorities) {
      for (let k = 0; k < n; k++) {
        let i = this.#next + k;
        if (i >= n) i -= n;
        const c = consumers[i];
        if (c.hasCredit()) {
          this.#next = i + 1 >= n ? 0 : i + 1;
          return c;
        }
      }
      return null;
    }
    for (let start = 0; start < n; ) {
      let end = start;
      while (end < n && consumers[end].priority === consumers[start].priority) end++;
      const size = end - start;
      const offset = this.#next >= start && this.#next < end ? this.#next - start : 0;
      for (let k = 0; k < size; k++) {
        const i = start + ((offset + k) % size);
        if (consumers[i].hasCredit()) {
          this.#next = start + ((i - start + 1) % size);
          return consumers[i];
        }
      }
      start = end;
    }
    return null;
  }
}
