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
import { Reconnecting, sleep, type Link } from './reconnecting.js';

export interface Endpoints {
  /** an AMQP URL through a random node that is running, or null when none is */
  randomUrl(): string | null;
}

/** amqplib over a random node; cut = close, or destroy the socket when the broker does not answer. */
abstract class AmqpClient extends Reconnecting {
  constructor(protected readonly endpoints: Endpoints) {
    super();
  }

  protected url(): string | null {
    return this.endpoints.randomUrl();
  }

  protected async open(url: string): Promise<Link | null> {
    const conn = await amqp.connect(url, { timeout: 3000 });
    this.sessionStart = Date.now();
    conn.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
    const cut = () => {
      void Promise.race([conn.close().then(() => true, () => true), sleep(2000).then(() => false)]).then((done) => {
        if (!done) (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
      });
    };
    this.session(conn, closed).catch(cut); // a session that cannot start: connect again
    return { closed, cut };
  }

  protected abstract session(conn: ChannelModel, closed: Promise<void>): Promise<void>;
}

export class Publisher extends AmqpClient {
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

export class Consumer extends AmqpClient {
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
