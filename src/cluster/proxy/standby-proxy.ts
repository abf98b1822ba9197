/**
 * A standby's client ports: every client listener the node is configured with (AMQP, MQTT
 * and STOMP over TCP and WebSocket, HTTP management, Kafka, and the TLS ones of each) accepts
 * connections and forwards their bytes to the same listener of the current leader, behind a
 * PROXY v1 header naming the client (proxy-header.ts), so the leader sees the client's
 * address. TLS bytes are forwarded unopened: the leader terminates TLS, so a client
 * certificate is verified where it is used and the standby holds no key. AMQP has no
 * redirect (RabbitMQ's `insist` is obsolete), so forwarding is the one way that works for
 * every client unchanged.
 *
 * While no leader is known (during a failover) new connections wait, paused, up to
 * `waitForLeaderMs`, then are closed; a client's reconnect loop then finds the new leader
 * through any node. Forwarding is plain byte piping with backpressure both ways.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log/index.js';
import { listenDualStack, closeServer } from '../../util/listen.js';
import { readMqttConnect, useAnotherServer } from './mqtt-redirect.js';
import { formatProxyV1 } from './proxy-header.js';

export interface ClientPort {
  /** the config key: 'amqp.port', 'mqtt.ws_port' … */
  key: string;
  host: string;
  port: number;
}

/** Where listener `key` of the current leader is, and the leader's epoch; null while none is known. */
export type LeaderTarget = (key: string) => { host: string; port: number; epoch: number } | null;

export interface StandbyProxyOptions {
  ports: readonly ClientPort[];
  target: LeaderTarget;
  log: Logger;
  waitForLeaderMs?: number;
  /** answer MQTT 5 clients on 'mqtt.port' with CONNACK 0x9C + Server Reference (mqtt-redirect.ts) */
  mqttServerReference?: boolean;
}

export class StandbyProxy {
  readonly #o: StandbyProxyOptions;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  /** forwarded pairs by the epoch of the leader they go to */
  readonly #forwarded = new Map<Socket, number>();
  #closed = false;

  constructor(o: StandbyProxyOptions) {
    this.#o = o;
  }

  async listen(): Promise<void> {
    for (const p of this.#o.ports) {
      const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.#accept(p, socket));
      await listenDualStack(server, p.port, p.host, false);
      this.#servers.push(server);
      const a = server.address() as AddressInfo;
      this.#o.log.info('standby forwarding client port to the leader', { key: p.key, host: a.address, port: a.port });
    }
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  #accept(p: ClientPort, client: Socket): void {
    if (this.#closed) return void client.destroy();
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.#o.mqttServerReference && p.key === 'mqtt.port') {
      readMqttConnect(client, (buffered, version) => this.#whenLeader(client, p, (target) => {
        if (version === 5) client.end(useAnotherServer(`${target.host}:${target.port}`));
        else this.#pipe(client, target, buffered);
      }));
    } else {
      this.#whenLeader(client, p, (target) => this.#pipe(client, target));
    }
  }

  /** Call `then` once a leader is known (new connections wait through a failover), or close. */
  #whenLeader(client: Socket, p: ClientPort, then: (target: { host: string; port: number; epoch: number }) => void): void {
    const deadline = Date.now() + (this.#o.waitForLeaderMs ?? 15_000);
    const tryConnect = () => {
      if (this.#closed || client.destroyed) return void client.destroy();
      const target = this.#o.target(p.key);
      if (!target) {
        if (Date.now() > deadline) return void client.destroy();
        return void setTimeout(tryConnect, 100);
      }
      then(target);
    };
    tryConnect();
  }

  /** @param first bytes already read from the client, sent right after the PROXY header */
  #pipe(client: Socket, target: { host: string; port: number; epoch: number }, first?: Buffer): void {
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    this.#sockets.add(upstream);
    this.#forwarded.set(client, target.epoch);
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      this.#forwarded.delete(client);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => upstream.destroy());
    upstream.once('connect', () => {
      upstream.write(formatProxyV1(
        { address: client.remoteAddress ?? '', port: client.remotePort ?? 0 },
        { address: client.localAddress ?? '', port: client.localPort ?? 0 },
      ));
      if (first && first.length > 0) upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  /**
   * A leader of epoch `epoch` is now known: cut the connections still forwarded to an older
   * one. A paused or partitioned old leader does not close them, and its clients would wait
   * for their heartbeat timeout; cut, they reconnect (through any node) to the new leader.
   */
  leaderChanged(epoch: number): void {
    for (const [client, e] of this.#forwarded) if (e !== epoch) client.destroy();
  }

  /** Stop accepting and cut every forwarded connection (the node is becoming the leader or stopping). */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = this.#servers.splice(0).map((s) => closeServer(s));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closing);
  }
}
