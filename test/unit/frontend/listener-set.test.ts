/**
 * The listener set of the front-end kit with a protocol of its own: a line echo, over a real
 * TCP listener (port 0) and an in-memory pair. It tracks connections until they end, fans a
 * resource alarm out to each, refuses new clients once stopping, and at a graceful stop
 * waits for clients to go, cutting the ones still there at the deadline.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Alarms } from '../../../src/core/alarms.js';
import { ListenerSet, type ConnectionRegistry, type FrontendConnection, type Peer } from '../../../src/frontend/index.js';
import { createLogger } from '../../../src/log/index.js';
import { memoryPair } from '../../helpers/memory-pair.js';

/** Echoes what it reads; at shutdown says 'bye' and ends, unless it is told to ignore the stop. */
class Echo implements FrontendConnection {
  static ignoreShutdown = false;
  readonly alarms: (string | null)[] = [];
  constructor(readonly stream: Duplex, readonly peer: Peer, registry: ConnectionRegistry<Echo>) {
    stream.on('data', (chunk: Buffer) => stream.write(chunk));
    stream.on('close', () => registry.closed(this));
  }
  alarmChanged(reason: string | null): void {
    this.alarms.push(reason);
  }
  shutdown(reason: string): void {
    if (!Echo.ignoreShutdown) this.stream.end(`bye: ${reason}\n`);
  }
  destroy(): void {
    this.stream.destroy();
  }
}

const alarms = new Alarms();
let set: ListenerSet<Echo> | null = null;
afterEach(async () => {
  Echo.ignoreShutdown = false;
  await set?.stop('test over', 100);
  set = null;
});

async function started(): Promise<ListenerSet<Echo>> {
  set = new ListenerSet<Echo>({
    protocol: 'Echo',
    listen: { host: '127.0.0.1', port: 0, sslEnabled: false, sslPort: 0 },
    env: { log: createLogger({ level: 'error' }), alarms, tls: null },
    handshakeTimeoutMs: 1000,
    open: (stream, peer, registry) => new Echo(stream, peer, registry),
  });
  await set.start();
  return set;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

function readAll(s: Duplex): Promise<string> {
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return new Promise((resolve) => s.once('close', () => resolve(text)));
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('ListenerSet', () => {
  it('serves TCP and in-memory clients, forgets them when they go, and tells each of an alarm', async () => {
    const listeners = await started();
    const [address] = listeners.addresses();
    expect(address).toMatchObject({ name: 'echo', host: '127.0.0.1' });
    const tcp = await dial(address!.port);
    const [client, server] = memoryPair();
    const inMemory = listeners.accept(server, { host: '10.0.0.1', port: 7 });
    expect(inMemory.peer).toMatchObject({ host: '10.0.0.1', port: 7, transport: 'tcp', certName: null });
    await until(() => listeners.connectionCount === 2);
    alarms.settings = { ...alarms.settings, memoryHighWatermark: 2 }; // 2 bytes: any process is over it
    alarms.check();
    alarms.settings = { ...alarms.settings, memoryHighWatermark: 0.99 };
    alarms.check();
    for (const c of listeners.connections()) expect(c.alarms).toEqual(['low on memory', null]);
    tcp.destroy();
    client.destroy();
    await until(() => listeners.connectionCount === 0);
  });

  it('a graceful stop tells every client, refuses new ones and resolves once they are gone', async () => {
    const listeners = await started();
    const port = listeners.addresses()[0]!.port;
    const tcp = await dial(port);
    const said = readAll(tcp);
    await until(() => listeners.connectionCount === 1);
    await listeners.stop('maintenance');
    expect(await said).toBe('bye: maintenance\n');
    expect(listeners.connectionCount).toBe(0);
    expect(listeners.addresses()).toEqual([]);
    await expect(dial(port)).rejects.toThrow();
  });

  it('a client still there at the stop deadline is cut', async () => {
    Echo.ignoreShutdown = true;
    const listeners = await started();
    const tcp = await dial(listeners.addresses()[0]!.port);
    const closed = readAll(tcp);
    await until(() => listeners.connectionCount === 1);
    const start = Date.now();
    await listeners.stop('maintenance', 150);
    expect(Date.now() - start).toBeGreaterThanOrEqual(140);
    expect(await closed).toBe('');
    expect(listeners.connectionCount).toBe(0);
  });
});
