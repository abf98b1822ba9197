/**
 * Test helpers for the STOMP plugin: an in-process broker with the STOMP listeners on
 * OS-chosen ports, a raw TCP client with its own small frame reader (independent of the
 * plugin's codec, so the tests check the bytes the server really sends), and a stompjs
 * client over WebSocket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IFrame, type IStompSocket, type IStompSocketMessageEvent, type StompConfig } from '@stomp/stompjs';
import WebSocket from 'ws';
import { Broker, type BrokerOptions } from '../../../src/broker.js';
import type { PluginTable } from '../../../src/plugin-host/builtin.js';
import { createLogger } from '../../../src/log/index.js';

export interface StompTestBroker {
  broker: Broker;
  tcpPort: number;
  wsPort: number;
  /** the AMQP listener's URL, when the AMQP plugin runs too */
  amqpUrl: string | null;
  /** the MQTT listener's URL, when the MQTT plugin runs too */
  mqttUrl: string | null;
  /** log lines of warn level and above (also echoed to stderr) */
  logs: string[];
  stop(): Promise<void>;
}

const STOMP_PLUGIN: PluginTable = { stomp: () => import('../../../plugins/stomp/index.js') };

/** The STOMP plugin, plus other protocols' plugins for cross-protocol tests. */
function pluginTable(extra: string[]): PluginTable {
  const table: Record<string, PluginTable[string]> = { ...STOMP_PLUGIN };
  for (const name of extra) {
    // a computed specifier: this file must not need the other plugins to type-check or load
    const url = new URL(`../../../plugins/${name}/index.js`, import.meta.url).href;
    table[name] = () => import(url) as ReturnType<PluginTable[string]>;
  }
  return table;
}

export async function startStompBroker(
  stomp: Record<string, number | string | boolean> = {},
  options: { plugins?: string[]; broker?: Partial<BrokerOptions> } = {},
): Promise<StompTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-stomp-'));
  const plugins = pluginTable(options.plugins ?? []);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'warn',
    format: 'text',
    output: {
      write: (line: string) => {
        logs.push(line);
        process.stderr.write(line);
      },
    },
  });
  const broker = new Broker(
    {
      dataDir,
      log: { level: 'warn' },
      amqp: plugins['amqp'] ? { port: 0, host: '127.0.0.1' } : undefined,
      mqtt: plugins['mqtt'] ? { port: 0, ws_port: 0, host: '127.0.0.1' } : undefined,
      stomp: { port: 0, ws_port: 0, host: '127.0.0.1', min_heartbeat: 20, ...stomp },
      ...options.broker,
    },
    { plugins, logger },
  );
  try {
    await broker.start();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const listeners = broker.listeners();
  const port = (name: string) => listeners.find((l) => l.name === name)?.port ?? 0;
  return {
    broker,
    tcpPort: port('stomp'),
    wsPort: port('stomp-ws'),
    amqpUrl: plugins['amqp'] ? broker.url('amqp') : null,
    mqttUrl: plugins['mqtt'] ? `mqtt://127.0.0.1:${port('mqtt')}` : null,
    logs,
    stop: async () => {
      try {
        await broker.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

// ---- raw TCP client -------------------------------------------------------------------------

export interface RawFrame {
  command: string;
  /** header lines as sent, not unescaped: `[name, value]` split at the first colon */
  lines: [string, string][];
  /** first value of each header, raw */
  headers: Record<string, string>;
  body: Buffer;
}

/** A STOMP client over a plain socket that writes whatever it is told and reads frames byte-exactly. */
export class RawClient {
  readonly socket: Duplex;
  readonly frames: RawFrame[] = [];
  /** EOLs received between frames (server heart-beats) */
  heartbeats = 0;
  closed = false;
  #buf = Buffer.alloc(0);
  #afterFrame = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#parse();
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** A client on an already connected byte stream (the other end of an in-memory pair). */
  static over(stream: Duplex): RawClient {
    return new RawClient(stream);
  }

  /** Connect and log in; returns the client and its CONNECTED frame. */
  static async login(port: number, version = '1.2', extra: Record<string, string> = {}): Promise<[RawClient, RawFrame]> {
    const c = await RawClient.connect(port);
    const headers: Record<string, string> = { login: 'guest', passcode: 'guest', ...extra };
    if (version !== '1.0') headers['accept-version'] = version;
    c.send('CONNECT', headers);
    const f = await c.next();
    if (f.command !== 'CONNECTED') throw new Error(`expected CONNECTED, got ${f.command}: ${f.body.toString()}`);
    return [c, f];
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** A frame with headers written as given (no escaping) and a body (no content-length unless given). */
  send(command: string, headers: Record<string, string> = {}, body: string | Buffer = ''): void {
    let head = command + '\n';
    for (const [k, v] of Object.entries(headers)) head += `${k}:${v}\n`;
    this.write(Buffer.concat([Buffer.from(head + '\n'), Buffer.from(body), Buffer.from([0])]));
  }

  /** The next frame not yet taken. */
  async next(timeoutMs = 3000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('connection closed while waiting for a frame');
      await this.#wait(deadline);
    }
    return this.frames.shift()!;
  }

  /** Frames until one with `command` (the others are returned too). */
  async until(command: string, timeoutMs = 3000): Promise<RawFrame[]> {
    const out: RawFrame[] = [];
    for (;;) {
      const f = await this.next(timeoutMs);
      out.push(f);
      if (f.command === command) return out;
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) await this.#wait(deadline);
  }

  /** True if no frame arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }

  #wait(deadline: number): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(new Error('timed out waiting for the server'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for the server')), left);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** A deliberately simple reader: EOLs between frames, header lines, content-length or NUL. */
  #parse(): void {
    for (;;) {
      let pos = 0;
      while (pos < this.#buf.length && (this.#buf[pos] === 0x0a || this.#buf[pos] === 0x0d)) {
        // the first EOL right after a frame's NUL is its trailing EOL, not a heart-beat
        if (this.#buf[pos] === 0x0a && !this.#afterFrame) this.heartbeats++;
        if (this.#buf[pos] === 0x0a) this.#afterFrame = false;
        pos++;
      }
      this.#buf = this.#buf.subarray(pos);
      const headEnd = this.#buf.indexOf('\n\n');
      if (headEnd === -1) return;
      const lines = this.#buf.subarray(0, headEnd).toString('utf8').split('\n');
      const command = lines.shift()!;
      const pairs: [string, string][] = lines.map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i), l.slice(i + 1)];
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of pairs) if (!(k in headers)) headers[k] = v;
      const bodyStart = headEnd + 2;
      let bodyEnd: number;
      if (headers['content-length'] !== undefined) {
        bodyEnd = bodyStart + Number(headers['content-length']);
        if (this.#buf.length <= bodyEnd) return;
        if (this.#buf[bodyEnd] !== 0) throw new Error('server frame: no NUL after content-length bytes');
      } else {
        bodyEnd = this.#buf.indexOf(0, bodyStart);
        if (bodyEnd === -1) return;
      }
      this.frames.push({ command, lines: pairs, headers, body: Buffer.from(this.#buf.subarray(bodyStart, bodyEnd)) });
      this.#buf = this.#buf.subarray(bodyEnd + 1);
      this.#afterFrame = true;
    }
  }
}

// ---- stompjs over WebSocket -----------------------------------------------------------------

/**
 * stompjs over plain TCP: the WebSocket-like object stompjs wants, on a net.Socket (stompjs
 * documents this pattern for Node). Bytes are handed over as ArrayBuffers.
 */
class TcpStompSocket implements IStompSocket {
  url: string;
  onclose: ((ev?: unknown) => unknown) | null = null;
  onerror: ((ev: unknown) => unknown) | null = null;
  onmessage: ((ev: IStompSocketMessageEvent) => unknown) | null = null;
  onopen: ((ev?: unknown) => unknown) | null = null;
  binaryType = 'arraybuffer';
  readyState = 0;
  readonly #socket: Socket;
  /** the TCP socket under the client (a test reads its writableLength) */
  get socket(): Socket {
    return this.#socket;
  }

  constructor(port: number) {
    this.url = `tcp://127.0.0.1:${port}`;
    this.#socket = netConnect({ port, host: '127.0.0.1' }, () => {
      this.readyState = 1;
      this.onopen?.();
    });
    this.#socket.on('data', (d: Buffer) => {
      this.onmessage?.({ data: d.buffer.slice(d.byteOffset, d.byteOffset + d.length) as ArrayBuffer });
    });
    this.#socket.on('error', (e) => this.onerror?.(e));
    this.#socket.on('close', () => {
      this.readyState = 3;
      this.onclose?.({ code: 1000, reason: '' });
    });
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (typeof data === 'string') this.#socket.write(data);
    else if (ArrayBuffer.isView(data)) this.#socket.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else this.#socket.write(Buffer.from(data as ArrayBuffer));
  }

  close(): void {
    this.readyState = 2;
    this.#socket.end();
  }

  terminate(): void {
    this.#socket.destroy();
  }
}

/** A connected stompjs client over WebSocket (port is the WebSocket one), or over TCP with `tcp`. */
export async function stompjsClient(port: number, config: Partial<StompConfig> = {}, tcp = false): Promise<Client> {
  const url = `ws://127.0.0.1:${port}/ws`;
  const client = new Client({
    webSocketFactory: () =>
      tcp ? new TcpStompSocket(port) : new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { login: 'guest', passcode: 'guest' },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    ...config,
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (f: IFrame) => reject(new Error(`STOMP error: ${f.headers['message']}: ${f.body}`));
    client.onWebSocketError = () => reject(new Error('WebSocket error'));
    client.activate();
  });
  return client;
}

/** Wait until `predicate` holds (polling), or fail after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let unique = 0;
/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++unique}-${Math.random().toString(36).slice(2, 8)}`;
}
