/**
 * The Jepsen-style run's AMQP clients, each reconnecting on its own through a random live
 * node (any node's port reaches the leader: standbys forward):
 *
 * - a publisher: a confirm channel, persistent messages with unique ids `<name>:<seq>` to one
 *   durable queue, at most `window` unconfirmed, about `rate` per second;
 * - a consumer: manual acks, prefetch 100; it records each delivery before acking it.
 *
 * A confirm lost with a connection is simply never recorded: the id stays "sent", and counts
 * as recovered if it is delivered anyway.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { History } from './history.js';

export interface Endpoints {
  /** an AMQP URL through a random node that is running, or null when none is */
  randomUrl(): string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

abstract class Reconnecting {
  protected stopped = false;
  /** when the current connection was opened */
  protected sessionStart = 0;
  protected conn: ChannelModel | null = null;
  #loop: Promise<void> | null = null;

  constructor(protected readonly endpoints: Endpoints) {}

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.stopped) {
      const url = this.endpoints.randomUrl();
      if (!url) {
        await sleep(200);
        continue;
      }
      try {
        const conn = await amqp.connect(url, { timeout: 3000 });
        this.conn = conn;
        this.sessionStart = Date.now();
        const closed = new Promise<void>((resolve) => {
          conn.on('close', () => resolve());
          conn.on('error', () => undefined);
        });
        await this.session(conn, closed);
        await closed;
      } catch {
        // refused, reset, closed by a failover: try again through another node
      }
      this.conn = null;
      if (!this.stopped) await sleep(200);
    }
  }

  protected abstract session(conn: ChannelModel, closed: Promise<void>): Promise<void>;

  /** Stop; a connection whose broker does not answer (paused, gone) is cut after 2 s. */
  async stop(): Promise<void> {
    this.stopped = true;
    const conn = this.conn;
    if (conn) {
      const closed = await Promise.race([conn.close().then(() => true, () => true), sleep(2000).then(() => false)]);
      if (!closed) (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
    }
    await this.#loop;
  }
}

export class Publisher extends Reconnecting {
  #seq = 0;
  #inFlight = 0;

  constructor(endpoints: Endpoints, readonly name: string, readonly queue: string, readonly history: History, readonly rate = 100, readonly window = 20) {
    super(endpoints);
  }

  protected async session(conn: ChannelModel, closed: Promise<void>): Promise<void> {
    const ch: ConfirmChannel = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    let open = true;
    void closed.then(() => (open = false));
    ch.on('close', () => (open = false));
    this.#inFlight = 0;
    const session = this.sessionStart;
    const gapMs = 1000 / this.rate;
    while (open && !this.stopped) {
      if (this.#inFlight >= this.window) {
        await sleep(5);
        continue;
      }
      const id = `${this.name}:${this.#seq++}`;
      this.history.sent(id);
      this.#inFlight++;
      ch.sendToQueue(this.queue, Buffer.from(id), { persistent: true, messageId: id }, (err) => {
        this.#inFlight--;
        if (!err) this.history.confirmed(id, session);
      });
      await sleep(gapMs);
    }
  }
}

export class Consumer extends Reconnecting {
  constructor(endpoints: Endpoints, readonly queue: string, readonly history: History) {
    super(endpoints);
  }

  lastDeliveryAt = 0;

  protected async session(conn: ChannelModel): Promise<void> {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.prefetch(100);
    await ch.consume(this.queue, (msg) => {
      if (!msg) return;
      this.history.delivered(this.queue, msg.content.toString());
      this.lastDeliveryAt = Date.now();
      try {
        ch.ack(msg);
      } catch {
        // the channel closed under us: the message comes again, counted as a duplicate
      }
    });
  }
}
