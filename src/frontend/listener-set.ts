/**
 * The listeners of one protocol front-end, the same way for every protocol: TCP, TLS, and
 * WebSocket over HTTP or HTTPS as its config asks (endpoints.ts), the registry of its open
 * connections, the fan-out of resource alarms to them, and the graceful stop: stop
 * accepting, tell every client why (each protocol its own way), wait for them to go, and cut
 * what is left at a deadline.
 *
 * A connection is made from any byte stream: the listeners hand over their sockets, and
 * `accept` takes any other `Duplex` (an in-memory pair in tests, as Aedes' tests drive its
 * handlers), so a protocol's handlers need no network to be exercised.
 */
import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AlarmKind } from '../core/alarms.js';
import type { AlarmState } from '../core/protocol-core.js';
import type { Logger } from '../log/index.js';
import type { ListenerAddress } from '../plugin-host/manifest.js';
import type { TlsListeners } from '../tls/tls-server.js';
import { closeServer, listenDualStack } from '../util/listen.js';
import { Endpoints, endpointsFor, type EndpointServers, type ListenerSettings, type WebSocketEndpoint } from './endpoints.js';
import { streamPeer, type Peer, type PeerInfo } from './peer.js';

/** What the listener set needs of each connection it made. */
export interface FrontendConnection {
  /**
   * A resource alarm started (`reason`) or cleared (null). On clear a connection releases what
   * its publish gate held; on start most do nothing until their next publish.
   */
  alarmChanged(reason: string | null): void;
  /** The front-end stops: tell the client why (`reason`) and close. */
  shutdown(reason: string): void;
  /** Past the stop deadline: drop the stream now. */
  destroy(): void;
}

/** Where a connection reports that it has ended (the listener set, or a test's own registry). */
export interface ConnectionRegistry<C> {
  closed(connection: C): void;
}

/** What every front-end's listeners share: its log, the core's alarms, the broker's TLS settings. */
export interface FrontendEnv {
  log: Logger;
  alarms: AlarmState;
  /** required when a TLS or WSS listener is turned on */
  tls: TlsListeners | null;
}

export interface ListenerSetOptions<C extends FrontendConnection> {
  /** the protocol in log lines ('AMQP', 'MQTT' …); lower-cased, the listeners' names ('amqp', 'amqps' …) */
  protocol: string;
  /** which listeners to open (endpoints.ts `endpointsFor`), on which address ('::' dual-stack) */
  listen: ListenerSettings;
  /** the TLS listener's name when it is not the protocol's name + 's' ('kafka-ssl') */
  tlsName?: string;
  env: FrontendEnv;
  /** a client that has not finished its TLS handshake within this time is dropped */
  handshakeTimeoutMs: number;
  /** WebSocket endpoints: path, subprotocols, message size */
  webSocket?: WebSocketEndpoint;
  /** log each alarm change once (one front-end speaks for the broker) */
  logAlarms?: boolean;
  /** a connection for a byte stream: a TCP or TLS socket, an in-memory pair, a WebSocket as a stream */
  open(stream: Duplex, peer: Peer, registry: ConnectionRegistry<C>): C;
  /** a connection for a WebSocket whose messages it reads itself; without it a WebSocket goes to `open` as a byte stream */
  openWebSocket?(ws: WebSocket, peer: Peer, registry: ConnectionRegistry<C>): C;
}

/** How long a graceful stop waits for clients to go before it cuts them. */
const STOP_DEADLINE_MS = 5000;

export class ListenerSet<C extends FrontendConnection> implements ConnectionRegistry<C>, EndpointServers {
  readonly #o: ListenerSetOptions<C>;
  readonly #log: Logger;
  readonly #endpoints: Endpoints;
  readonly #connections = new Set<C>();
  readonly #servers: Server[] = [];
  readonly #addresses: ListenerAddress[] = [];
  #unsubscribeAlarms: (() => void) | null = null;
  #accepting = false;
  /** resolves the wait of `stop` once the last connection has ended */
  #drained: (() => void) | null = null;

  constructor(options: ListenerSetOptions<C>) {
    this.#o = options;
    this.#log = options.env.log;
    const { log, tls } = options.env;
    this.#endpoints = new Endpoints({ log, tls, handshakeTimeoutMs: options.handshakeTimeoutMs, webSocket: options.webSocket }, this);
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The open connections (management, tests). */
  connections(): IterableIterator<C> {
    return this.#connections.values();
  }

  addresses(): ListenerAddress[] {
    return [...this.#addresses];
  }

  /** Open every endpoint; on a failure what was opened is closed again and the error thrown. */
  async start(): Promise<void> {
    const o = this.#o;
    this.#accepting = true;
    this.#unsubscribeAlarms = o.env.alarms.onChange((active) => this.#alarmChanged(active));
    try {
      for (const endpoint of endpointsFor(o.protocol.toLowerCase(), o.listen, o.tlsName)) {
        const server = this.#endpoints.create(endpoint);
        this.#servers.push(server);
        await listenDualStack(server, endpoint.port, o.listen.host);
        const a = server.address() as AddressInfo;
        this.#addresses.push({ name: endpoint.name, host: a.address, port: a.port });
        this.#log.info(`${o.protocol} listener started`, { listener: endpoint.name, host: a.address, port: a.port });
      }
    } catch (e) {
      await this.stop('start failed');
      throw e;
    }
  }

  /**
   * A connection for any byte stream, as if a client had connected: what the listeners do
   * with their sockets, and what tests do with an in-memory pair.
   */
  accept(stream: Duplex, peer: Peer | PeerInfo = {}): C {
    // as a TCP socket does: the end of the client's input ends the stream (no half-open wait)
    stream.allowHalfOpen = false;
    return this.adopt(this.#o.open(stream, 'socket' in peer ? peer : streamPeer(peer), this));
  }

  /** A socket or WebSocket from one of the endpoints (endpoints.ts). */
  acceptStream(stream: Duplex, peer: Peer): void {
    if (!this.#accepting) {
      stream.destroy();
      return;
    }
    this.adopt(this.#o.open(stream, peer, this));
  }

  acceptWebSocket(ws: WebSocket, peer: Peer): void {
    if (!this.#accepting) {
      ws.terminate();
      return;
    }
    this.adopt(this.#o.openWebSocket!(ws, peer, this));
  }

  get readsWebSockets(): boolean {
    return this.#o.openWebSocket !== undefined;
  }

  adopt(connection: C): C {
    this.#connections.add(connection);
    return connection;
  }

  closed(connection: C): void {
    if (this.#connections.delete(connection) && this.#connections.size === 0) this.#drained?.();
  }

  /**
   * Stop accepting, tell every client why (`FrontendConnection.shutdown`), and resolve once
   * they and the listeners are gone; a client still there after `deadlineMs` is cut.
   */
  async stop(reason: string, deadlineMs = STOP_DEADLINE_MS): Promise<void> {
    const o = this.#o;
    this.#accepting = false;
    this.#unsubscribeAlarms?.();
    this.#unsubscribeAlarms = null;
    const servers = this.#servers.splice(0);
    this.#addresses.length = 0;
    const closing = servers.map((s) => closeServer(s));
    this.#endpoints.close();
    const drained = this.#connections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#drained = resolve));
    for (const c of [...this.#connections]) {
      try {
        c.shutdown(reason);
      } catch (e) {
        this.#log.warn(`${o.protocol}: error while closing a connection`, { error: String(e) });
      }
    }
    // upgraded WebSocket sockets are the connections' to close; idle HTTP ones go now
    for (const s of servers) if ('closeAllConnections' in s) (s as { closeAllConnections(): void }).closeAllConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'late')));
    const gone = Promise.all([drained, ...closing]);
    if ((await Promise.race([gone, deadline])) === 'late') {
      for (const c of [...this.#connections]) c.destroy();
      // what is cut is gone, whether or not it says so: only the listeners are waited for now
      this.#connections.clear();
      this.#drained?.();
      await gone;
    }
    clearTimeout(timer);
    this.#drained = null;
  }

  #alarmChanged(active: ReadonlySet<AlarmKind>): void {
    const o = this.#o;
    const reason = active.size > 0 ? o.env.alarms.reason : null;
    if (o.logAlarms) this.#log.warn(reason !== null ? 'resource alarm: blocking publishers' : 'resource alarm cleared', { alarms: [...active] });
    for (const c of this.#connections) c.alarmChanged(reason);
  }
}
