/**
 * The Jepsen-style run's MQTT clients (MQTT.js, QoS 1), reconnecting through a random live
 * node as the AMQP ones do (amqp-clients.ts): a publisher whose PUBACK is the confirm, and a
 * subscriber with a persistent session (clean false: its queue and unacknowledged messages
 * outlive a connection, and a failover) that records every message before MQTT.js acks it.
 * A new client object per connection: what was in flight on the old one counts as unconfirmed.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { History } from './history.js';
import { Reconnecting, sleep, type Link } from './reconnecting.js';

export interface MqttEndpoints {
  /** an mqtt:// URL through a random running node, or null */
  randomMqttUrl(): string | null;
}

/** MQTT.js over a random node, a new client object per connection; cut = end(true). */
abstract class MqttReconnecting extends Reconnecting {
  constructor(protected readonly endpoints: MqttEndpoints, readonly clientId: string, readonly clean: boolean) {
    super();
  }

  protected url(): string | null {
    return this.endpoints.randomMqttUrl();
  }

  protected async open(url: string): Promise<Link | null> {
    const client = mqtt.connect(url, {
      clientId: this.clientId, clean: this.clean, username: 'guest', password: 'guest',
      reconnectPeriod: 0, connectTimeout: 3000, keepalive: 5,
    });
    client.on('error', () => undefined);
    this.listen(client);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const cut = () => void client.end(true);
    // Connected, or closed (refused, timed out, dropped): a failover is never waited out here.
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => client.once('connect', () => resolve(true))),
      closed.then(() => false),
      sleep(5000).then(() => false),
    ]);
    if (!connected) {
      cut();
      return null;
    }
    this.sessionStart = Date.now();
    this.session(client, closed).catch(cut);
    return { closed, cut };
  }

  /**
   * Called before the CONNACK can arrive. A kept session's queued messages follow its CONNACK
   * at once, often in the same TCP segment, and MQTT.js handles those packets on
   * process.nextTick — before an `await` on 'connect' resumes — PUBACKing each QoS 1 message
   * whether or not a 'message' listener exists: a listener added after 'connect' loses them.
   */
  protected listen(_client: MqttClient): void {}

  protected abstract session(client: MqttClient, closed: Promise<void>): Promise<void>;
}

export class MqttPublisher extends MqttReconnecting {
  #seq = 0;

  constructor(endpoints: MqttEndpoints, readonly name: string, readonly topic: string, readonly history: History, readonly rate = 50, readonly window = 20) {
    super(endpoints, `jepsen-${name}`, true);
  }

  protected async session(client: MqttClient, closed: Promise<void>): Promise<void> {
    let open = true;
    void closed.then(() => (open = false));
    let inFlight = 0;
    const session = this.sessionStart;
    while (open && !this.stopped) {
      if (inFlight >= this.window) {
        await sleep(5);
        continue;
      }
      const id = `${this.name}:${this.#seq++}`;
      this.history.sent(id);
      inFlight++;
      client.publish(this.topic, id, { qos: 1 }, (err) => {
        inFlight--;
        if (!err) this.history.confirmed(id, session);
      });
      await sleep(1000 / this.rate);
    }
  }
}

export class MqttSubscriber extends MqttReconnecting {
  lastDeliveryAt = 0;

  constructor(endpoints: MqttEndpoints, readonly name: string, readonly topic: string, readonly history: History) {
    super(endpoints, `jepsen-${name}`, false);
  }

  /** The queue the broker keeps this persistent QoS 1 subscription in (RabbitMQ's naming). */
  get queue(): string {
    return `mqtt-subscription-${this.clientId}qos1`;
  }

  /**
   * Subscribe once, before any publish, so that the session's queue exists; through any live
   * node, again until it works (on a loaded machine a node may be restarting: refused, or cut).
   */
  async subscribeFirst(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const url = this.endpoints.randomMqttUrl();
      try {
        if (url === null) throw new Error('no node runs');
        const client = await mqtt.connectAsync(url, { clientId: this.clientId, clean: false, username: 'guest', password: 'guest', reconnectPeriod: 0, connectTimeout: 5000 });
        try {
          await client.subscribeAsync(this.topic, { qos: 1 });
        } finally {
          await client.endAsync(true).catch(() => undefined);
        }
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(500);
      }
    }
  }

  protected override listen(client: MqttClient): void {
    client.on('message', (_topic, payload) => {
      this.history.delivered(this.queue, payload.toString());
      this.lastDeliveryAt = Date.now();
    });
  }

  protected async session(client: MqttClient): Promise<void> {
    await client.subscribeAsync(this.topic, { qos: 1 });
  }
}
