/**
 * The AMQP TCP listener: one `AmqpConnection` per accepted socket, and the graceful stop that
 * tells every client why (connection.close 320 CONNECTION_FORCED, as RabbitMQ does on shutdown).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Core } from '../../src/core/core.js';
import type { Logger } from '../../src/log.js';
import type { ListenerAddress } from '../../src/plugin-host/manifest.js';
import { AmqpConnection } from './connection.js';
import { notifyBlocked } from './handlers/connection.js';
import type { AmqpSettings } from './settings.js';

export class AmqpListener {
  readonly #core: Core;
  readonly #settings: AmqpSettings;
  readonly #log: Logger;
  readonly #connections = new Set<AmqpConnection>();
  #server: Server | null = null;

  constructor(core: Core, settings: AmqpSettings, log: Logger) {
    this.#core = core;
    this.#settings = settings;
    this.#log = log;
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
      if (!blocked) for (const c of this.#connections) c.releasePublishes();
    });
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    const { port, host } = this.#settings;
    try {
      await listenOn(server, port, host);
    } catch (e) {
      // '::' means dual-stack; on a host without IPv6 fall back to every IPv4 address
      if (host !== '::' || (e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw e;
      await listenOn(server, port, '0.0.0.0');
    }
    const a = server.address() as AddressInfo;
    this.#log.info('AMQP listener started', { host: a.address, port: a.port });
  }

  addresses(): ListenerAddress[] {
    const a = this.#server?.address() as AddressInfo | null | undefined;
    return a ? [{ name: 'amqp', host: a.address, port: a.port }] : [];
  }

  /** Stop accepting, close every connection with 320 CONNECTION_FORCED, wait for them to end. */
  async stop(reason: string): Promise<void> {
    this.#unsubscribeAlarms?.();
    const server = this.#server;
    this.#server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all([...this.#connections].map((c) => c.forceClose(reason)));
    await closed;
  }

  /**
   * Tell every client that announced the connection.blocked capability that publishing is
   * blocked (`reason`) or unblocked (null) — RabbitMQ's blocked connection notifications.
   */
  notifyBlocked(reason: string | null): void {
    for (const c of this.#connections) notifyBlocked(c, reason);
  }

  #accept(socket: Socket): void {
    if (!this.#server) {
      socket.destroy();
      return;
    }
    const connection = new AmqpConnection(socket, this.#core, this.#settings, this.#log, () => this.#connections.delete(connection));
    this.#connections.add(connection);
  }
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
