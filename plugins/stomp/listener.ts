/**
 * The STOMP listeners: plain TCP (default port 61613) and WebSocket (default 15674, path /ws,
 * subprotocols v12.stomp, v11.stomp, v10.stomp as RabbitMQ's Web-STOMP offers them). Each
 * accepted connection becomes a `StompConnection`; stopping closes the listeners, tells every
 * client why with an ERROR frame and closes it. When a resource alarm clears, every
 * connection holding publishes goes on (held-frames.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Core } from '../../src/core/core.js';
import type { Logger } from '../../src/log.js';
import type { ListenerAddress } from '../../src/plugin-host/manifest.js';
import { StompConnection } from './connection.js';
import type { StompSettings } from './settings.js';
import { TcpTransport, WsTransport } from './transport.js';

/** Subprotocols in order of preference (the client's frames still negotiate the version). */
const WS_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

export class StompListener {
  readonly #core: Core;
  readonly #settings: StompSettings;
  readonly #log: Logger;
  readonly #connections = new Set<StompConnection>();
  #tcp: TcpServer | null = null;
  #http: HttpServer | null = null;
  #wss: WebSocketServer | null = null;
  readonly #addresses: ListenerAddress[] = [];
  #unsubscribeAlarms: (() => void) | null = null;

  constructor(core: Core, settings: StompSettings, log: Logger) {
    this.#core = core;
    this.#settings = settings;
    this.#log = log;
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
    const { host } = this.#settings;
    if (this.#settings.tcpEnabled) {
      const tcp = createTcpServer((socket) => this.#acceptTcp(socket));
      this.#tcp = tcp;
      await listen(tcp, this.#settings.port, host);
      this.#addresses.push({ name: 'stomp', host, port: (tcp.address() as AddressInfo).port });
    }
    if (this.#settings.wsEnabled) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
        res.end(`STOMP over WebSocket: connect to ${this.#settings.wsPath}\n`);
      });
      const wss = new WebSocketServer({
        server: http,
        path: this.#settings.wsPath,
        maxPayload: this.#settings.limits.maxFrameSize + 1024,
        handleProtocols: (offered) => WS_PROTOCOLS.find((p) => offered.has(p)) ?? false,
      });
      wss.on('connection', (ws, req) => this.#acceptWs(ws, req));
      wss.on('error', () => {}); // the http server reports listen errors
      this.#http = http;
      this.#wss = wss;
      await listen(http, this.#settings.wsPort, host);
      this.#addresses.push({ name: 'stomp-ws', host, port: (http.address() as AddressInfo).port });
    }
  }

  async stop(reason: string): Promise<void> {
    this.#unsubscribeAlarms?.();
    this.#unsubscribeAlarms = null;
    const closing: Promise<void>[] = [];
    if (this.#tcp?.listening) closing.push(closeServer(this.#tcp));
    if (this.#wss) this.#wss.close();
    if (this.#http?.listening) closing.push(closeServer(this.#http));
    for (const c of [...this.#connections]) {
      try {
        c.shutdown(reason);
      } catch (e) {
        this.#log.warn('STOMP: error while closing a connection', { error: String(e) });
      }
    }
    this.#http?.closeAllConnections();
    await Promise.all(closing);
  }

  #newConnection(): StompConnection {
    const c = new StompConnection(this.#core, this.#settings, this.#log, (closed) => this.#connections.delete(closed));
    this.#connections.add(c);
    return c;
  }

  #acceptTcp(socket: Socket): void {
    const c = this.#newConnection();
    c.attach(new TcpTransport(socket, c, c.terminator));
  }

  #acceptWs(ws: WebSocket, req: IncomingMessage): void {
    const c = this.#newConnection();
    c.attach(new WsTransport(ws, req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0, c, c.terminator));
  }
}

function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
