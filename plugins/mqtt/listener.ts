/**
 * The MQTT listeners: TCP, and WebSocket on its own HTTP server (path `/ws`, subprotocol
 * `mqtt`, MQTT 5 §6); and, off by default, the same two over TLS (MQTTS 8883, WSS 15676)
 * with the broker-wide ssl_options. All hand each client to an `MqttConnection` as a byte
 * stream, with the login name of a verified client certificate (mqtt.ssl_cert_login). When a
 * resource alarm clears, every connection holding publishes goes on (src/util/held-in-order.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { TlsListeners } from '../../src/tls/index.js';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { ListenerAddress } from '../../src/plugin-host/index.js';
import { SocketTraffic, closeServer, listenDualStack } from '../../src/util/index.js';
import { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';

export class MqttListeners {
  readonly #ctx: MqttContext;
  readonly #connections = new Set<MqttConnection>();
  readonly #tls: TlsListeners | null;
  #tcp: TcpServer | null = null;
  #http: HttpServer | null = null;
  #tlsTcp: TcpServer | null = null;
  #https: HttpServer | null = null;
  #wss: WebSocketServer | null = null;
  #unsubscribeAlarms: (() => void) | null = null;

  constructor(ctx: MqttContext, tls: TlsListeners | null = null) {
    this.#ctx = ctx;
    this.#tls = tls;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  async start(): Promise<void> {
    const s = this.#ctx.settings;
    this.#unsubscribeAlarms = this.#ctx.core.alarms.onChange((active) => {
      if (active.size > 0) return; // blocking happens at each connection's next PUBLISH
      for (const c of this.#connections) if (c.holding) c.releaseHeld();
    });
    this.#tcp = createTcpServer({ noDelay: true }, (socket) => this.#acceptTcp(socket, null));
    await listenDualStack(this.#tcp, s.port, s.host);
    if (s.wsEnabled || s.wssEnabled) {
      this.#wss = new WebSocketServer({
        noServer: true,
        // a WebSocket message holds at least one MQTT packet's worth, never more than a few
        maxPayload: s.maxPacketSizeAuthenticated + 16,
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
      });
    }
    if (s.wsEnabled) {
      this.#http = createHttpServer(upgradeRequired);
      this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
      await listenDualStack(this.#http, s.wsPort, s.host);
    }
    if (!s.sslEnabled && !s.wssEnabled) return;
    const tls = this.#tls;
    if (!tls) throw new Error('mqtt: TLS listeners enabled but no TLS settings were given');
    // the connect timeout bounds the TLS handshake too: a client that stalls in it holds no more
    const handshakeTimeoutMs = s.connectTimeoutMs > 0 ? s.connectTimeoutMs : 10_000;
    if (s.sslEnabled) {
      this.#tlsTcp = tls.createServer({ name: 'mqtts', handshakeTimeoutMs, log: this.#ctx.log }, (socket) => this.#acceptTcp(socket, tls.peerName(socket)));
      await listenDualStack(this.#tlsTcp, s.sslPort, s.host);
    }
    if (s.wssEnabled) {
      const https = tls.createHttpsServer({ name: 'mqtt-wss', handshakeTimeoutMs, log: this.#ctx.log }, upgradeRequired);
      https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
      this.#https = https;
      await listenDualStack(https, s.wssPort, s.host);
    }
  }

  addresses(): ListenerAddress[] {
    const out: ListenerAddress[] = [];
    const add = (name: string, server: TcpServer | HttpServer | null) => {
      const a = server?.address() as AddressInfo | null | undefined;
      if (a) out.push({ name, host: a.address, port: a.port });
    };
    add('mqtt', this.#tcp);
    add('mqtt-ws', this.#http);
    add('mqtts', this.#tlsTcp);
    add('mqtt-wss', this.#https);
    return out;
  }

  /** Stop listening and end every connection (MQTT 5 clients are told 0x8B Server shutting down). */
  async stop(): Promise<void> {
    this.#unsubscribeAlarms?.();
    this.#unsubscribeAlarms = null;
    const closing = [closeServer(this.#tcp), closeServer(this.#http), closeServer(this.#tlsTcp), closeServer(this.#https)];
    for (const c of [...this.#connections]) c.shutdown();
    this.#wss?.close();
    await Promise.all(closing);
  }

  /** @param certName the login name of a verified TLS client certificate, or null */
  #acceptTcp(socket: Socket, certName: string | null): void {
    socket.on('error', () => {}); // reported through the connection's own listener
    const c = new MqttConnection(this.#ctx, socket, socket.remoteAddress ?? '', socket.remotePort ?? 0, 'tcp');
    c.certName = certName;
    c.traffic = new SocketTraffic(socket);
    this.#track(c, socket);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== this.#ctx.settings.wsPath || !this.#wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {}); // reported through the connection's own listener
      const host = req.socket.remoteAddress ?? '';
      const c = new MqttConnection(this.#ctx, stream, host, req.socket.remotePort ?? 0, 'ws');
      // over wss:// the HTTP request's socket is the TLS one that carries the certificate
      c.certName = this.#tls?.peerName(req.socket) ?? null;
      c.traffic = new SocketTraffic(req.socket);
      this.#track(c, stream);
    });
  }

  #track(c: MqttConnection, stream: Duplex): void {
    this.#connections.add(c);
    this.#ctx.stats.opened(c);
    stream.once('close', () => {
      this.#connections.delete(c);
      this.#ctx.stats.closed(c);
    });
  }
}

function upgradeRequired(_req: IncomingMessage, res: import('node:http').ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: upgrade required\n');
}
