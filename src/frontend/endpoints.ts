/**
 * The servers behind a listener set: plain TCP, TLS (broker-wide ssl_options, the guards of
 * src/tls/tls-server.ts), and WebSocket on an HTTP or HTTPS server. Every accepted socket
 * or WebSocket goes to the listener set with its `Peer`; a plain HTTP request gets 426
 * Upgrade Required, an upgrade to another path 404.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log/index.js';
import type { TlsListeners } from '../tls/tls-server.js';
import { socketPeer, type Peer } from './peer.js';

export interface Endpoint {
  /** the listener's name in logs and `Broker.address` ('amqp', 'mqtts', 'stomp-ws' …) */
  name: string;
  kind: 'tcp' | 'tls' | 'ws' | 'wss';
  port: number;
}

/**
 * A front-end's listener settings, named alike in every plugin's config section: `port`, and
 * as the protocol has them `tcp_enabled`, `ssl_enabled`/`ssl_port`, `ws_enabled`/`ws_port`,
 * `wss_enabled`/`wss_port`.
 */
export interface ListenerSettings {
  host: string;
  port: number;
  /** false: no plain TCP listener (default true) */
  tcpEnabled?: boolean;
  sslEnabled: boolean;
  sslPort: number;
  wsEnabled?: boolean;
  wsPort?: number;
  wssEnabled?: boolean;
  wssPort?: number;
}

/**
 * The endpoints `s` turns on, named after the protocol: `amqp`, `amqps` (or `tlsName`),
 * `amqp-ws`, `amqp-wss`; in the order TCP, WebSocket, TLS, WSS.
 */
export function endpointsFor(name: string, s: ListenerSettings, tlsName = `${name}s`): Endpoint[] {
  const out: Endpoint[] = [];
  if (s.tcpEnabled !== false) out.push({ name, kind: 'tcp', port: s.port });
  if (s.wsEnabled && s.wsPort !== undefined) out.push({ name: `${name}-ws`, kind: 'ws', port: s.wsPort });
  if (s.sslEnabled) out.push({ name: tlsName, kind: 'tls', port: s.sslPort });
  if (s.wssEnabled && s.wssPort !== undefined) out.push({ name: `${name}-wss`, kind: 'wss', port: s.wssPort });
  return out;
}

export interface WebSocketEndpoint {
  /** the only path upgraded */
  path: string;
  /** the subprotocols accepted, in order of preference */
  protocols: readonly string[];
  /** the largest WebSocket message read */
  maxPayload: number;
  /** the body of the 426 answer to a plain HTTP request */
  upgradeRequired: string;
}

/** What the servers hand their clients to (the listener set). */
export interface EndpointServers {
  acceptStream(stream: Duplex, peer: Peer): void;
  acceptWebSocket(ws: WebSocket, peer: Peer): void;
  /** whether WebSockets go to `acceptWebSocket` as they are (else as byte streams to `acceptStream`) */
  readonly readsWebSockets: boolean;
}

export interface EndpointOptions {
  log: Logger;
  tls: TlsListeners | null;
  handshakeTimeoutMs: number;
  webSocket?: WebSocketEndpoint;
}

/** Errors on an accepted stream are reported by its 'close'; without a listener they would throw. */
function ignoreError(): void {}

export class Endpoints {
  readonly #o: EndpointOptions;
  readonly #to: EndpointServers;
  #wss: WebSocketServer | null = null;

  constructor(options: EndpointOptions, to: EndpointServers) {
    this.#o = options;
    this.#to = to;
  }

  /** A server for `endpoint`, not yet listening. */
  create(endpoint: Endpoint): Server {
    switch (endpoint.kind) {
      case 'tcp':
        return createTcpServer({ noDelay: true }, (socket) => this.#acceptSocket(socket, null));
      case 'tls': {
        const tls = this.#requireTls(endpoint);
        return tls.createServer({ name: endpoint.name, handshakeTimeoutMs: this.#o.handshakeTimeoutMs, log: this.#o.log }, (socket) =>
          this.#acceptSocket(socket, tls.peerName(socket)),
        );
      }
      case 'ws':
        return this.#upgrading(createHttpServer(this.#upgradeRequired));
      case 'wss': {
        const tls = this.#requireTls(endpoint);
        return this.#upgrading(tls.createHttpsServer({ name: endpoint.name, handshakeTimeoutMs: this.#o.handshakeTimeoutMs, log: this.#o.log }, this.#upgradeRequired));
      }
    }
  }

  /** Stop upgrading (the WebSockets already open are their connections' to close). */
  close(): void {
    this.#wss?.close();
    this.#wss = null;
  }

  #requireTls(endpoint: Endpoint): TlsListeners {
    if (!this.#o.tls) throw new Error(`${endpoint.name}: a TLS listener was asked for but no TLS settings were given`);
    return this.#o.tls;
  }

  #acceptSocket(socket: Socket, certName: string | null): void {
    socket.on('error', ignoreError);
    this.#to.acceptStream(socket, socketPeer(socket, 'tcp', certName));
    // a connection that took the socket hears its errors itself: two listeners would make the
    // event's listeners an array (~64 bytes an idle connection)
    if (socket.listenerCount('error') > 1) socket.removeListener('error', ignoreError);
  }

  #upgrading<S extends Server>(http: S): S {
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    return http;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ws = this.#o.webSocket;
    const path = (req.url ?? '').split('?')[0];
    if (!ws || path !== ws.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.on('error', ignoreError);
    const wss = (this.#wss ??= new WebSocketServer({
      noServer: true,
      maxPayload: ws.maxPayload,
      handleProtocols: (offered) => ws.protocols.find((p) => offered.has(p)) ?? false,
    }));
    wss.handleUpgrade(req, socket, head, (webSocket: WebSocket) => this.#acceptWebSocket(webSocket, req));
  }

  #acceptWebSocket(webSocket: WebSocket, req: IncomingMessage): void {
    // over wss:// the HTTP request's socket is the TLS one that carries the certificate
    const certName = this.#o.tls?.peerName(req.socket) ?? null;
    const peer = socketPeer(req.socket, 'ws', certName);
    if (this.#to.readsWebSockets) {
      this.#to.acceptWebSocket(webSocket, peer);
      return;
    }
    const stream = createWebSocketStream(webSocket);
    stream.on('error', ignoreError);
    this.#to.acceptStream(stream, peer);
  }

  readonly #upgradeRequired = (_req: IncomingMessage, res: ServerResponse): void => {
    const ws = this.#o.webSocket;
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end(ws ? `${ws.upgradeRequired}\n` : 'upgrade required\n');
  };
}
