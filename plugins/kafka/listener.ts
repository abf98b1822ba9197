/**
 * The Kafka listeners: plain TCP (default 9092) and, off by default, TLS (9093) with the
 * broker-wide ssl_options. Each accepted socket becomes a `KafkaConnection`.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ListenerAddress } from '../../src/plugin-host/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { closeServer, listenDualStack } from '../../src/util/index.js';
import type { KafkaBroker } from './broker.js';
import { KafkaConnection } from './connection.js';

export class KafkaListener {
  readonly #broker: KafkaBroker;
  readonly #tls: TlsListeners | null;
  readonly #servers: Server[] = [];
  readonly #addresses: ListenerAddress[] = [];

  constructor(broker: KafkaBroker, tls: TlsListeners | null) {
    this.#broker = broker;
    this.#tls = tls;
  }

  addresses(): ListenerAddress[] {
    return [...this.#addresses];
  }

  async start(): Promise<void> {
    const s = this.#broker.settings;
    try {
      await this.#open('kafka', createTcpServer((socket) => this.#accept(socket)), s.port);
      if (s.sslEnabled) {
        const tls = this.#tls;
        if (!tls) throw new Error('kafka: TLS listener enabled but no TLS settings were given');
        const server = tls.createServer({ name: 'kafka-ssl', handshakeTimeoutMs: 10_000, log: this.#broker.log }, (socket) => this.#accept(socket));
        await this.#open('kafka-ssl', server, s.sslPort);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async #open(name: string, server: Server, port: number): Promise<void> {
    this.#servers.push(server);
    await listenDualStack(server, port, this.#broker.settings.host);
    this.#addresses.push({ name, host: this.#broker.settings.host, port: (server.address() as AddressInfo).port });
  }

  #accept(socket: Socket): void {
    this.#broker.connections.add(new KafkaConnection(this.#broker, socket));
  }

  async stop(): Promise<void> {
    const closing = this.#servers.filter((s) => s.listening).map((s) => closeServer(s));
    this.#broker.stop();
    await Promise.all(closing);
  }
}
