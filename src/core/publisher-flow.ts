/**
 * Publisher flow by bytes: a queue that holds its messages in memory only (a non-durable
 * classic queue, a priority queue: nothing pages them out) and has consumers stops the
 * connections that publish to it once its ready bytes pass `highBytes`, and lets them go when
 * it has drained to `lowBytes`. A held connection's front-end stops reading its socket, so the
 * client feels TCP backpressure — the `flow` state of RabbitMQ's credit flow
 * (https://www.rabbitmq.com/docs/flow-control), shown as `flow` in management — and nothing is
 * refused or lost. Without this a transient publisher runs ahead of its consumer by as much
 * memory as it likes: confirms for transient messages go out at once, so its window never
 * holds it back.
 *
 * Where it differs from RabbitMQ, and why:
 * - RabbitMQ's credit is by message count and granted as the queue *process* takes messages,
 *   so a queue holds publishers only while it cannot keep up with its inbox; its backlog is
 *   bounded by paging to disk and the memory alarm. Here the queue's event loop is the
 *   publisher's, so the bound is on what costs memory: ready bytes held in memory.
 * - A queue without consumers holds no one: a backlog built on purpose (consumers not started
 *   yet) is bounded by x-max-length(-bytes) and the memory alarm, as in RabbitMQ.
 * - Durable FIFO queues page their backlog beyond a window to the journal
 *   (classic/queue-pager.ts): their memory is bounded already and they hold no one.
 * - A connection with a consumer that acknowledges is never held: its acks arrive on the
 *   socket that would stop being read, and a queue draining only through them would never
 *   drain (RabbitMQ's credit flow blocks such a connection too, but its credit does not wait
 *   for consumers). Such a publisher is bounded by its own confirms window only.
 */

/** The core side of a connection as flow holds it (core/connection.ts). */
export interface FlowConnection {
  readonly closed: boolean;
  /** the queues holding it now; null while none */
  flowHolds: Set<FlowQueue> | null;
  /** the front-end told to stop (false) or resume (true) reading its client; null: nothing to hold */
  readonly flow: FlowListener | null;
  /** whether a consumer of this connection waits for acks read from its socket */
  hasAckingConsumer(): boolean;
}

/** What a front-end connection implements to be held (CoreConnection.flow). */
export interface FlowListener {
  /** false: stop reading publishes from the client; true: read again (unless held otherwise) */
  queueFlow(flowing: boolean): void;
}

/** What flow asks of a queue. */
export interface FlowQueue {
  readonly readyBytes: number;
  readonly consumerCount: number;
  readonly deleted: boolean;
}

/** Defaults: docs/security.md "Publisher flow by bytes" says how they were chosen. */
export const FLOW_HIGH_BYTES = 8 * 1024 * 1024;
export const FLOW_LOW_BYTES = 4 * 1024 * 1024;

export class PublisherFlow {
  /** ready bytes past which a queue holds its publishers (0: never) */
  highBytes = FLOW_HIGH_BYTES;
  /** ready bytes at or below which it lets them go */
  lowBytes = FLOW_LOW_BYTES;
  /** how many queues hold connections now: 0 makes every drain check one comparison */
  holding = 0;
  /** the queue the publish being made pushed past `highBytes`; the publishing session takes it */
  pressed: FlowQueue | null = null;
  readonly #held = new Map<FlowQueue, Set<FlowConnection>>();

  /** queue_flow_bytes: hold above `high` bytes, let go at half of it (0: never hold) */
  setHighBytes(high: number): void {
    this.highBytes = high;
    this.lowBytes = Math.floor(high / 2);
  }

  /** A push left `q` with `readyBytes`: above the mark and with consumers, its publisher is to be held. */
  pushed(q: FlowQueue): void {
    if (this.highBytes > 0 && q.readyBytes > this.highBytes && q.consumerCount > 0) this.pressed = q;
  }

  /** After a publish by `c`: hold it on the queue that publish pressed, if any. */
  afterPublish(c: FlowConnection): void {
    const q = this.pressed;
    if (q === null) return;
    this.pressed = null;
    if (c.flow === null || c.closed || c.hasAckingConsumer()) return;
    let held = this.#held.get(q);
    if (held === undefined) {
      this.#held.set(q, (held = new Set()));
      this.holding++;
    }
    if (held.has(c)) return;
    held.add(c);
    const holds = (c.flowHolds ??= new Set());
    holds.add(q);
    if (holds.size === 1) c.flow.queueFlow(false);
  }

  /** `q` dequeued, lost consumers or was deleted: let its publishers go once it is low enough. */
  check(q: FlowQueue): void {
    if (this.holding === 0 || (q.readyBytes > this.lowBytes && q.consumerCount > 0 && !q.deleted)) return;
    const held = this.#held.get(q);
    if (held === undefined) return;
    this.#held.delete(q);
    this.holding--;
    for (const c of held) this.#release(c, q);
  }

  /** `c` is to be held no more (it closed, or now consumes with acks): every queue lets it go. */
  exempt(c: FlowConnection): void {
    const holds = c.flowHolds;
    if (holds === null) return;
    for (const q of [...holds]) {
      const held = this.#held.get(q);
      if (held !== undefined && held.delete(c) && held.size === 0) {
        this.#held.delete(q);
        this.holding--;
      }
      this.#release(c, q);
    }
  }

  #release(c: FlowConnection, q: FlowQueue): void {
    const holds = c.flowHolds;
    if (holds === null || !holds.delete(q) || holds.size > 0) return;
    c.flowHolds = null;
    if (!c.closed) c.flow?.queueFlow(true);
  }
}
