/**
 * An in-process Warren with the MQTT plugin (and AMQP when asked) on OS-chosen ports, and
 * MQTT.js clients that are closed when the test ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import { Broker, type BrokerOptions } from '../../../src/broker.js';
import { BUILTIN_PLUGINS, type PluginTable } from '../../../src/plugin-host/builtin.js';

export interface MqttTestBroker {
  broker: Broker;
  tcpPort: number;
  wsPort: number;
  /** mqtt://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port/ws */
  wsUrl: string;
  amqpUrl: string | null;
  /** a fresh broker on the same data directory (restart) */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const MQTT_PLUGIN: PluginTable = { mqtt: () => import('../../../plugins/mqtt/index.js') };

export async function startMqttBroker(
  mqttOptions: Record<string, number | string | boolean> = {},
  options: { amqp?: boolean; broker?: Partial<BrokerOptions> } = {},
): Promise<MqttTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-mqtt-'));
  const plugins: Record<string, PluginTable[string]> = { ...MQTT_PLUGIN };
  if (options.amqp && BUILTIN_PLUGINS['amqp']) plugins['amqp'] = BUILTIN_PLUGINS['amqp'];
  let ports = { tcp: 0, ws: 0, amqp: 0 };
  const make = () =>
    new Broker(
      {
        dataDir,
        log: { level: 'error' },
        amqp: plugins['amqp'] ? { port: ports.amqp, host: '127.0.0.1' } : undefined,
        mqtt: { port: ports.tcp, ws_port: ports.ws, host: '127.0.0.1', ...mqttOptions },
        ...options.broker,
      },
      { plugins },
    );
  const t = {} as MqttTestBroker;
  const startOn = async (b: Broker) => {
    await b.start();
    const port = (name: string) => b.listeners().find((l) => l.name === name)?.port ?? 0;
    ports = { tcp: port('mqtt'), ws: port('mqtt-ws'), amqp: port('amqp') };
    t.broker = b;
    t.tcpPort = ports.tcp;
    t.wsPort = ports.ws;
    t.url = `mqtt://127.0.0.1:${ports.tcp}`;
    t.wsUrl = `ws://127.0.0.1:${ports.ws}/ws`;
    t.amqpUrl = plugins['amqp'] ? b.url('amqp') : null;
  };
  try {
    await startOn(make());
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  t.restart = async () => {
    await t.broker.stop();
    await startOn(make());
  };
  t.stop = async () => {
    try {
      await t.broker.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  return t;
}

/** MQTT.js clients opened by a test, ended by `closeAll`. */
export class Clients {
  readonly #open: MqttClient[] = [];

  constructor(readonly url: string) {}

  async connect(options: IClientOptions = {}, url = this.url): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    this.#open.push(client);
    return client;
  }

  /** Connect and return the CONNACK too (to read sessionPresent and properties). */
  async connectWithConnack(options: IClientOptions = {}, url = this.url): Promise<[MqttClient, IConnackPacket, Inbox]> {
    const client = this.raw(options, url);
    // before CONNACK: a resumed session's messages may follow it in the same read
    const inbox = new Inbox(client);
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
    return [client, connack, inbox];
  }

  /** Connect without waiting for CONNACK success (for refused connections). */
  raw(options: IClientOptions = {}, url = this.url): MqttClient {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.on('error', () => {});
    this.#open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

/** Messages a client receives, with a way to wait for a number of them. */
export class Inbox {
  readonly messages: { topic: string; payload: string; packet: mqttPacket.IPublishPacket }[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString(), packet });
      this.#waiters = this.#waiters.filter((w) => {
        if (this.messages.length < w.n) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** Resolves once `n` messages have arrived in all (rejects after `ms`). */
  waitFor(n: number, ms = 3000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${this.messages.length} of ${n} messages`)), ms);
      this.#waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  get payloads(): string[] {
    return this.messages.map((m) => m.payload);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `cond` holds, polled every few ms (rejects after `ms`, naming `what`): for a state the broker reaches after an event the client cannot see. */
export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves when the client's connection closes (or after `ms`, with false). */
export function closed(client: MqttClient, ms = 3000): Promise<boolean> {
  if (!client.connected && client.disconnected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * A bare TCP MQTT client for malformed input: send raw bytes or packets, read parsed replies,
 * see when the server closes.
 */
export class RawClient {
  readonly socket: Duplex;
  readonly packets: Packet[] = [];
  closed = false;
  readonly #parser;
  readonly #closedPromise: Promise<void>;

  private constructor(socket: Duplex, version: 4 | 5) {
    this.socket = socket;
    this.#parser = mqttPacket.parser({ protocolVersion: version });
    this.#parser.on('packet', (p: Packet) => this.packets.push(p));
    this.#parser.on('error', () => {});
    socket.on('data', (d) => this.#parser.parse(d));
    socket.on('error', () => {});
    this.#closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** A client on an already connected byte stream (the other end of an in-memory pair). */
  static over(stream: Duplex, version: 4 | 5 = 4): RawClient {
    return new RawClient(stream, version);
  }

  static open(port: number, version: 4 | 5 = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket, version)));
      socket.once('error', reject);
    });
  }

  send(packet: Packet, version: 4 | 5 = 4): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: version }));
  }

  write(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** Resolves with the first packet of command `cmd` (rejects after `ms`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read fields of whichever packet type they asked for
  async next(cmd: Packet['cmd'], ms = 2000): Promise<any> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${ms} ms (got ${this.packets.map((p) => p.cmd).join(', ') || 'nothing'})`);
      await sleep(10);
    }
  }

  /** Resolves true when the server closes the connection within `ms`. */
  async waitClosed(ms = 2000): Promise<boolean> {
    return Promise.race([this.#closedPromise.then(() => true), sleep(ms).then(() => false)]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const CONNECT_V4: IConnectPacket = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'raw', clean: true, keepalive: 0 };
export const CONNECT_V5: IConnectPacket = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'raw5', clean: true, keepalive: 0 };
