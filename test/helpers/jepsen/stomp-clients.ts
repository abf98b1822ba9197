/**
 * The Jepsen-style run's STOMP clients (@stomp/stompjs over WebSocket: the WebSocket
 * listener is forwarded by standbys too), reconnecting through a random live node: a
 * publisher whose RECEIPT is the confirm (persistent SEND to a durable queue), and a consumer
 * with client-individual acks that records each MESSAGE before acking it. A new client per
 * connection, as for MQTT (mqtt-clients.ts).
 */
import { Client, type IMessage } from '@stomp/stompjs';
import WebSocket from 'ws';
import type { History } from './history.js';
import { Reconnecting, sleep, type Link } from './reconnecting.js';

export interface StompEndpoints {
  /** a ws:// URL of a random running node's STOMP WebSocket listener, or null */
  randomStompUrl(): string | null;
}

/** @stomp/stompjs over a random node's WebSocket listener, a new client per connection. */
abstract class StompReconnecting extends Reconnecting {
  constructor(protected readonly endpoints: StompEndpoints) {
    super();
  }

  protected url(): string | null {
    return this.endpoints.randomStompUrl();
  }

  protected async open(url: string): Promise<Link | null> {
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const client = new Client({
      webSocketFactory: () => new WebSocket(url, ['v12.stomp']),
      connectHeaders: { login: 'guest', passcode: 'guest' },
      reconnectDelay: 0,
      heartbeatIncoming: 4000,
      heartbeatOutgoing: 4000,
      connectionTimeout: 3000,
    });
    const connected = new Promise<boolean>((resolve) => {
      client.onConnect = () => resolve(true);
      client.onStompError = () => resolve(false);
    });
    client.onWebSocketClose = () => markClosed();
    client.onWebSocketError = () => markClosed();
    const cut = () => void client.deactivate({ force: true }).catch(() => undefined).finally(markClosed);
    client.activate();
    if (!(await Promise.race([connected, closed.then(() => false), sleep(5000).then(() => false)]))) {
      cut();
      return null;
    }
    this.sessionStart = Date.now();
    this.session(client);
    return { closed, cut };
  }

  protected abstract session(client: Client): void;
}

export class StompPublisher extends StompReconnecting {
  #seq = 0;

  constructor(endpoints: StompEndpoints, readonly name: string, readonly queue: string, readonly history: History, readonly rate = 50, readonly window = 20) {
    super(endpoints);
  }

  protected session(client: Client): void {
    const session = this.sessionStart;
    let inFlight = 0;
    const next = async () => {
      while (client.connected && !this.stopped) {
        if (inFlight >= this.window) {
          await sleep(5);
          continue;
        }
        const id = `${this.name}:${this.#seq++}`;
        this.history.sent(id);
        inFlight++;
        client.watchForReceipt(id, () => {
          inFlight--;
          this.history.confirmed(id, session);
        });
        try {
          client.publish({ destination: `/amq/queue/${this.queue}`, body: id, headers: { receipt: id, persistent: 'true' } });
        } catch {
          return; // the connection went away under us
        }
        await sleep(1000 / this.rate);
      }
    };
    void next();
  }
}

export class StompConsumer extends StompReconnecting {
  lastDeliveryAt = 0;

  constructor(endpoints: StompEndpoints, readonly queue: string, readonly history: History) {
    super(endpoints);
  }

  protected session(client: Client): void {
    client.subscribe(`/amq/queue/${this.queue}`, (m: IMessage) => {
      this.history.delivered(this.queue, m.body);
      this.lastDeliveryAt = Date.now();
      try {
        m.ack();
      } catch {
        // gone: the message comes again, a duplicate
      }
    }, { ack: 'client-individual', 'prefetch-count': '100' });
  }
}
