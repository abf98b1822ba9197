/**
 * The MQTT plugin's broker-wide counters, the figures Mosquitto publishes under
 * `$SYS/broker/...` (sys-topics.ts turns them into topics). Plain integer fields, incremented on
 * the hot path where the event happens (one add, no call), read only when `$SYS` is published.
 * Bytes are not counted per write: they come from the sockets' own counters (SocketTraffic),
 * summed over the live connections plus what closed connections had moved.
 */
import type { SocketTraffic } from '../../src/util/index.js';

/** What the stats need of a connection: its socket's traffic, its subscriptions. */
interface CountedConnection {
  traffic: SocketTraffic | null;
  sessionState: { subscriptions: { size: number } } | null;
}

export class MqttStats {
  /** MQTT packets of any type received ($SYS/broker/messages/received) */
  packetsReceived = 0;
  /** MQTT packets of any type sent ($SYS/broker/messages/sent) */
  packetsSent = 0;
  /** PUBLISH packets received ($SYS/broker/publish/messages/received) */
  publishReceived = 0;
  /** PUBLISH packets sent ($SYS/broker/publish/messages/sent) */
  publishSent = 0;
  /** deliveries not sent: larger than the client's Maximum Packet Size, no packet identifier free ($SYS/broker/publish/messages/dropped) */
  publishDropped = 0;
  /** network connections accepted, TCP and WebSocket ($SYS/broker/load/sockets/*) */
  socketsOpened = 0;
  /** CONNECTs accepted ($SYS/broker/load/connections/*) */
  connectsAccepted = 0;
  /** the most clients connected at once ($SYS/broker/clients/maximum) */
  clientsMaximum = 0;
  /** persistent sessions that expired ($SYS/broker/clients/expired) */
  sessionsExpired = 0;
  readonly #live = new Set<CountedConnection>();
  #closedBytesReceived = 0;
  #closedBytesSent = 0;

  opened(c: CountedConnection): void {
    this.socketsOpened++;
    this.#live.add(c);
  }

  closed(c: CountedConnection): void {
    if (!this.#live.delete(c)) return;
    this.#closedBytesReceived += c.traffic?.bytesRead ?? 0;
    this.#closedBytesSent += c.traffic?.bytesWritten ?? 0;
  }

  /** bytes received on MQTT connections, TCP and WebSocket ($SYS/broker/bytes/received) */
  get bytesReceived(): number {
    let n = this.#closedBytesReceived;
    for (const c of this.#live) n += c.traffic?.bytesRead ?? 0;
    return n;
  }

  /** subscriptions of the connected clients ($SYS/broker/subscriptions/count) */
  get subscriptions(): number {
    let n = 0;
    for (const c of this.#live) n += c.sessionState?.subscriptions.size ?? 0;
    return n;
  }

  /** bytes sent on MQTT connections ($SYS/broker/bytes/sent) */
  get bytesSent(): number {
    let n = this.#closedBytesSent;
    for (const c of this.#live) n += c.traffic?.bytesWritten ?? 0;
    return n;
  }
}
