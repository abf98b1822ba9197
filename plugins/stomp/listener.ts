/**
 * The STOMP listeners: plain TCP (default port 61613) and WebSocket (default 15674, path /ws,
 * subprotocols v12.stomp, v11.stomp, v10.stomp as RabbitMQ's Web-STOMP offers them). Each
 * accepted connection becomes a `StompConnection`; stopping closes the listeners, tells every
 * client why with an ERROR frame and closes it. When a resource alarm clears, every
 * connection holding publishes goes on (src/util/held-in-order.ts).
 *
 * Off by default, the same two over TLS (61614, and WSS on 15673) with the broker-wide
 * ssl_options; a connection over TLS carries the login name of a verified client
 * certificate (stomp.ssl_cert_login).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ProtocolCore } from '../../src/core/index.js';
import type { Logger } from '../../src/log.js';
import type { ListenerAddress } from '../../src/plugin-host/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { StompConnection } from './connection.js';
import type { StompSettings } from './settings.js';
import { TcpTransport, WsTransport } from './transport.js';
import { closeServer, listenDualStack } from '../../src/util/index.js';

/** Subprotocols in order of preference (the client's frames still negotiate the version). */
const WS_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

export class StompListener {
  readonly #core: ProtocolCore;
  readonly #settings: StompSettings;
  readonly #log: Logger;
  readonly #connections = new Set<StompConnection>();
  readonly #tls: TlsListeners | null;
  readonly #servers: (TcpServer | HttpServer)[] = [];
  readonly #webSocketServers: WebSocketServer[] = [];
  readonly #httpServers: HttpServer[] = [];
  readonly #addresses: ListenerAddress[] = [];
  #unsubscribeAlarms: (() => void) | null = null;

  constructor(core: ProtocolCore, settings: StompSettings, log: Logger, tls: TlsListeners | null = null) {
    this.#core = core;
    this.#settings = settings;
    this.#log = log;
    this.#tls = tls;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  addresses(): ListenerAddress[] {
    return [...this.#addresses];
  }

  async start(): Promise<void> {
    this.#unsubscribeAlarms = this.#core.alarms.onChange((active) => {
      if (active.size > 0) return; // blocking happens at each connection's next SEND
      for (const c of this.#connections) if (c.holding) c.releaseHeld();
    });
    try {
      await this.#listen();
    } catch (e) {
      await this.stop('start failed');
      throw e;
    }
  }

  async #listen(): Promise<void> {
    const s = this.#settings;
    if (s.tcpEnabled) await this.#open('stomp', createTcpServer((socket) => this.#acceptTcp(socket, null)), s.port);
    if (s.wsEnabled) await this.#openWs('stomp-ws', createHttpServer(upgradeRequired(s.wsPath)), s.wsPort);
    if (!s.sslEnabled && !s.wssEnabled) return;
    const tls = this.#tls;
    if (!tls) throw new Error('stomp: TLS listeners enabled but no TLS settings were given');
    // the login timeout bounds the TLS handshake too
    const handshakeTimeoutMs = s.loginTimeout > 0 ? s.loginTimeout : 10_000;
    if (s.sslEnabled) {
      const server = tls.createServer({ name: 'stomps', handshakeTimeoutMs, log: this.#log }, (socket) => this.#acceptTcp(socket, tls.peerName(socket)));
      await this.#open('stomps', server, s.sslPort);
    }
    if (s.wssEnabled) {
      const https = tls.createHttpsServer({ name: 'stomp-wss', handshakeTimeoutMs, log: this.#log }, upgradeRequired(s.wsPath));
      await this.#openWs('stomp-wss', https, s.wssPort);
    }
  }

  async #open(name: string, server: TcpServer | HttpServer, port: number): Promise<void> {
    this.#servers.push(server);
    await listenDualStack(server, port, this.#settings.host);
    this.#addresses.push({ name, host: this.#settings.host, port: (server.address() as AddressInfo).port });
  }

  /** A WebSocket endpoint (ws_path, STOMP subprotocols) on an HTTP or HTTPS server. */
  async #openWs(name: string, http: HttpServer, port: number): Promise<void> {
    const wss = new WebSocketServer({
      server: http,
      path: this.#settings.wsPath,
      maxPayload: this.#settings.limits.maxFrameSize + 1024,
      handleProtocols: (offered) => WS_PROTOCOLS.find((p) => offered.has(p)) ?? false,
    });
    wss.on('connection', (ws, req) => this.#acceptWs(ws, req));
    wss.on('error', () => {}); // the http server reports listen errors
    this.#webSocketServers.push(wss);
    this.#httpServers.push(http);
    await this.#open(name, http, port);
  }

  async stop(reason: string): Promise<void> {
    this.#unsubscribeAlarms?.();
    this.#unsubscribeAlarms = null;
    const closing: Promise<void>[] = [];
    for (const server of this.#servers) if (server.listening) closing.push(closeServer(server));
    for (const wss of this.#webSocketServers) wss.close();
    for (const c of [...this.#connections]) {
      try {
        c.shutdown(reason);
      } catch (e) {
        this.#log.warn('STOMP: error while closing a connection', { error: String(e) });
      }
    }
    for (const http of this.#httpServers) http.closeAllConnections();
    await Promise.all(closing);
  }

  #newConnection(): StompConnection {
    const c = new StompConnection(this.#core, this.#settings, this.#log, (closed) => this.#connections.delete(closed));
    this.#connections.add(c);
    return c;
  }

  /** @param certName the login name of a verified TLS client certificate, or null */
  #acceptTcp(socket: Socket, certName: string | null): void {
    const c = this.#newConnection();
    c.certName = certName;
    c.attach(new TcpTransport(socket, c, c.terminator));
  }

  #acceptWs(ws: WebSocket, req: IncomingMessage): void {
    const c = this.#newConnection();
    // over wss:// the HTTP request's socket is the TLS one that carries the certificate
    c.certName = this.#tls?.peerName(req.socket) ?? null;
    c.attach(new WsTransport(ws, req.socket, c, c.terminator));
  }
}

function upgradeRequired(path: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end(`STOMP over WebSocket: connect to ${path}\n`);
  };
}
