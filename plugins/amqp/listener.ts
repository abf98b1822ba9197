/**
 * The AMQP listeners — TCP, and AMQPS (TLS, off by default) — one `AmqpConnection` per
 * accepted socket, and the graceful stop that tells every client why (connection.close 320
 * CONNECTION_FORCED, as RabbitMQ does on shutdown). A TLS socket reaches the same connection
 * class once its handshake is done, with the login name of a verified client certificate.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ProtocolCore } from '../../src/core/index.js';
import type { Logger } from '../../src/log.js';
import type { ListenerAddress } from '../../src/plugin-host/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { AmqpConnection } from './connection.js';
import { notifyBlocked } from './handlers/connection.js';
import type { AmqpSettings } from './settings.js';
import { listenDualStack } from '../../src/util/index.js';

export class AmqpListener {
  readonly #core: ProtocolCore;
  readonly #settings: AmqpSettings;
  readonly #log: Logger;
  readonly #connections = new Set<AmqpConnection>();
  readonly #tls: TlsListeners | null;
  #server: Server | null = null;
  #tlsServer: Server | null = null;

  constructor(core: ProtocolCore, settings: AmqpSettings, log: Logger, tls: TlsListeners | null = null) {
    this.#core = core;
    this.#settings = settings;
    this.#log = log;
    this.#tls = tls;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  #unsubscribeAlarms: (() => void) | null = null;

  async listen(): Promise<void> {
    this.#unsubscribeAlarms = this.#core.alarms.onChange((active) => {
      const blocked = active.size > 0;
      this.#log.warn(blocked ? 'resource alarm: blocking publishers' : 'resource alarm cleared', { alarms: [...active] });
      this.notifyBlocked(blocked ? this.#core.alarms.reason : null);
      if (!blocked) for (const c of this.#connections) c.held.release();
    });
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket, null));
    this.#server = server;
    const { port, host } = this.#settings;
    await listenDualStack(server, port, host);
    const a = server.address() as AddressInfo;
    this.#log.info('AMQP listener started', { host: a.address, port: a.port });
    if (this.#settings.sslEnabled) {
      const tls = this.#tls;
      if (!tls) throw new Error('amqp.ssl_enabled: no TLS settings given to the AMQP listener');
      const tlsServer = tls.createServer({ name: 'amqps', handshakeTimeoutMs: this.#settings.handshakeTimeoutMs, log: this.#log }, (socket) =>
        this.#accept(socket, tls.peerName(socket)),
      );
      this.#tlsServer = tlsServer;
      await listenDualStack(tlsServer, this.#settings.sslPort, host);
      const t = tlsServer.address() as AddressInfo;
      this.#log.info('AMQPS listener started', { host: t.address, port: t.port, verify: tls.settings.verify });
    }
  }

  addresses(): ListenerAddress[] {
    const out: ListenerAddress[] = [];
    const a = this.#server?.address() as AddressInfo | null | undefined;
    if (a) out.push({ name: 'amqp', host: a.address, port: a.port });
    const t = this.#tlsServer?.address() as AddressInfo | null | undefined;
    if (t) out.push({ name: 'amqps', host: t.address, port: t.port });
    return out;
  }

  /** Stop accepting, close every connection with 320 CONNECTION_FORCED, wait for them to end. */
  async stop(reason: string): Promise<void> {
    this.#unsubscribeAlarms?.();
    const servers = [this.#server, this.#tlsServer];
    this.#server = null;
    this.#tlsServer = null;
    const closed = servers.map((s) => (s?.listening ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve()));
    await Promise.all([...this.#connections].map((c) => c.forceClose(reason)));
    await Promise.all(closed);
  }

  /**
   * Tell every client that announced the connection.blocked capability that publishing is
   * blocked (`reason`) or unblocked (null) — RabbitMQ's blocked connection notifications.
   */
  notifyBlocked(reason: string | null): void {
    for (const c of this.#connections) notifyBlocked(c, reason);
  }

  /** @param certName the login name of a verified TLS client certificate (EXTERNAL), or null */
  #accept(socket: Socket, certName: string | null): void {
    if (!this.#server) {
      socket.destroy();
      return;
    }
    const connection = new AmqpConnection(socket, this.#core, this.#settings, this.#log, () => this.#connections.delete(connection), certName);
    this.#connections.add(connection);
  }
}
