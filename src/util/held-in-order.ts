/**
 * What a front-end received while a resource alarm blocks publishing (RabbitMQ's
 * memory and disk alarms), kept in arrival order until the alarm clears, with one deadline
 * for the lot: beyond RabbitMQ, input held longer than the core's `publishDeadlineMs` is
 * failed explicitly by the caller (`onDeadline`), never silently dropped.
 *
 * Shared by AMQP (held-publishes.ts), MQTT (packets) and STOMP (frames); each front-end
 * decides what to hold, when to stop reading, and how a deadline fails.
 */
export class HeldInOrder<T> {
  #items: T[] = [];
  #deadline: NodeJS.Timeout | null = null;

  get size(): number {
    return this.#items.length;
  }

  /** @param onDeadline called if the items are still held after `deadlineMs` (0: never) */
  hold(item: T, deadlineMs: number, onDeadline: () => void): void {
    this.#items.push(item);
    if (this.#deadline === null && deadlineMs > 0) {
      this.#deadline = setTimeout(() => {
        this.#deadline = null;
        onDeadline();
      }, deadlineMs);
      this.#deadline.unref();
    }
  }

  /** Everything held, in arrival order; the holder is empty (and its deadline off) afterwards. */
  take(): T[] {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
