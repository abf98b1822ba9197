/**
 * The publish gate of one front-end connection: what a client sent while a resource alarm
 * blocks publishing (RabbitMQ's memory and disk alarms) waits here, in arrival order, while
 * the connection stops reading, so the client feels TCP backpressure; when the alarm clears
 * it is handled as if it had just arrived and reading resumes. Beyond RabbitMQ, input held
 * longer than the core's `publish_deadline` is failed explicitly by its protocol
 * (`heldTooLong`: a negative ack, an ERROR frame, a close), never silently dropped.
 *
 * What to hold is the protocol's choice: AMQP holds only its publishes, MQTT and STOMP hold
 * the first publish and everything read after it.
 *
 * Cost when no alarm ever holds anything: the gate's four fields; the hold queue is made at
 * the first hold and let go when it empties, and the deadlines of every holding gate share
 * one timer.
 */

/** What the gate needs of its connection. */
export interface GateOwner<T> {
  /** stop (false) or resume (true) reading the client's stream */
  setReading(reading: boolean): void;
  /**
   * The alarm cleared: handle one held item as if it had just arrived.
   * @returns false when the connection closed meanwhile (the rest is dropped, reading stays off)
   */
  handleHeld(item: T): boolean;
  /**
   * The items were held past the deadline: fail them the protocol's way.
   * @returns true to read again now, false to stay paused until the alarm clears
   */
  heldTooLong(items: T[]): boolean;
}

const NOTHING: never[] = [];

export class PublishGate<T> {
  /** every gate holding something with a deadline, in the order their deadlines fall (one deadline length per broker) */
  static readonly #due = new Set<PublishGate<unknown>>();
  static #timer: NodeJS.Timeout | null = null;
  static #timerAt = 0;

  readonly #owner: GateOwner<T>;
  /** made at the first hold, dropped when emptied */
  #held: T[] | null = null;
  /** when the oldest held item fails (ms since the epoch); 0: no deadline */
  #expiresAt = 0;
  /** reading stopped by the alarm; stays so after a deadline failed what was held, unless the owner read again */
  #paused = false;

  constructor(owner: GateOwner<T>) {
    this.#owner = owner;
  }

  /** whether items wait for the alarm to clear */
  get holding(): boolean {
    return this.#held !== null;
  }

  /** whether the gate stopped the connection's reading */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * An item that must wait: keep it, stop reading, and (for the first of a batch) start its
   * deadline. @param deadlineMs 0: no deadline
   */
  hold(item: T, deadlineMs: number): void {
    if (!this.#paused) {
      this.#paused = true;
      this.#owner.setReading(false);
    }
    if (this.#held === null) {
      this.#held = [item];
      if (deadlineMs > 0) this.#startDeadline(Date.now() + deadlineMs);
    } else {
      this.#held.push(item);
    }
  }

  /** The alarm cleared: handle what was held, in arrival order, and read again. */
  release(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const items = this.#take();
    for (let i = 0; i < items.length; i++) if (!this.#owner.handleHeld(items[i]!)) return;
    this.#owner.setReading(true);
  }

  /** The connection ends: what was held goes with it (nothing was acknowledged for it). */
  drop(): void {
    this.#take();
  }

  #take(): T[] {
    const items = this.#held;
    if (items === null) return NOTHING;
    this.#held = null;
    if (this.#expiresAt !== 0) {
      this.#expiresAt = 0;
      PublishGate.#due.delete(this as PublishGate<unknown>);
    }
    return items;
  }

  #expire(): void {
    const items = this.#take();
    if (items.length > 0 && this.#owner.heldTooLong(items) && this.#paused) {
      this.#paused = false;
      this.#owner.setReading(true);
    }
  }

  // ---- one timer for the deadlines of every gate ----------------------------------------------

  #startDeadline(at: number): void {
    this.#expiresAt = at;
    PublishGate.#due.add(this as PublishGate<unknown>);
    if (PublishGate.#timer === null || at < PublishGate.#timerAt) PublishGate.#arm(at);
  }

  static #arm(at: number): void {
    if (PublishGate.#timer !== null) clearTimeout(PublishGate.#timer);
    PublishGate.#timerAt = at;
    PublishGate.#timer = setTimeout(PublishGate.#tick, Math.max(0, at - Date.now()));
    PublishGate.#timer.unref();
  }

  static #tick(): void {
    PublishGate.#timer = null;
    const now = Date.now();
    for (const gate of [...PublishGate.#due]) if (gate.#expiresAt !== 0 && gate.#expiresAt <= now) gate.#expire();
    let next = Infinity;
    for (const gate of PublishGate.#due) if (gate.#expiresAt < next) next = gate.#expiresAt;
    if (next !== Infinity) PublishGate.#arm(next);
  }
}
