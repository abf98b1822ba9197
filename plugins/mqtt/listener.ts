/**
 * The MQTT listeners: TCP, and WebSocket on its own HTTP server (path `/ws`, subprotocol
 * `mqtt`, MQTT 5 §6). Both hand each client to an `MqttConnection` as a byte stream. When a
 * resource alarm clears, every connection holding publishes goes on (held-packets.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { ListenerAddress } from '../../src/plugin-host/manifest.js';
import { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';

export class MqttListeners {
  readonly #ctx: MqttContext;
  readonly #connections = new Set<MqttConnection>();
  #tcp: TcpServer | null = null;
  #http: HttpServer | null = null;
  #wss: WebSocketServer | null = null;
  #unsubscribeAlarms: (() => void) | null = null;

  constructor(ctx: MqttContext) {
    this.#ctx = ctx;
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
    this.#tcp = createTcpServer({ noDelay: true }, (socket) => this.#acceptTcp(socket));
    await listen(this.#tcp, s.port, s.host);
    if (s.wsEnabled) {
      this.#wss = new WebSocketServer({
        noServer: true,
        // a WebSocket message holds at least one MQTT packet's worth, never more than a few
        maxPayload: s.maxPacketSizeAuthenticated + 16,
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
      });
      this.#http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: upgrade required\n');
      });
      this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
      await listen(this.#http, s.wsPort, s.host);
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
    return out;
  }

  /** Stop listening and end every connection (MQTT 5 clients are told 0x8B Server shutting down). */
  async stop(): Promise<void> {
    this.#unsubscribeAlarms?.();
    this.#unsubscribeAlarms = null;
    const closing = [closeServer(this.#tcp), closeServer(this.#http)];
    for (const c of [...this.#connections]) c.shutdown();
    this.#wss?.close();
    await Promise.all(closing);
  }

  #acceptTcp(socket: Socket): void {
    socket.on('error', () => {}); // reported through the connection's own listener
    this.#track(new MqttConnection(this.#ctx, socket, socket.remoteAddress ?? '', socket.remotePort ?? 0, 'tcp'), socket);
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
      this.#track(new MqttConnection(this.#ctx, stream, host, req.socket.remotePort ?? 0, 'ws'), stream);
    });
  }

  #track(c: MqttConnection, stream: Duplex): void {
    this.#connections.add(c);
    stream.once('close', () => this.#connections.delete(c));
  }
}

/** Listen on host:port; '::' falls back to '0.0.0.0' on hosts without IPv6. */
async function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  try {
    await listenOnce(server, port, host);
  } catch (e) {
    if (host !== '::' || (e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw e;
    await listenOnce(server, port, '0.0.0.0');
  }
}

function listenOnce(server: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host });
  });
}

function closeServer(server: TcpServer | HttpServer | null): Promise<void> {
  if (!server || !server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
