/**
 * One in-process Warren with AMQP, MQTT and STOMP listening on OS-chosen loopback ports (no
 * WebSocket listeners), its log lines kept for assertions: the broker the security tests
 * (permissions, failed logins, limits on each protocol) talk to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../src/broker.js';
import { createLogger } from '../../src/log/index.js';
import { BUILTIN_PLUGINS } from '../../src/plugin-host/builtin.js';
import type { Disk } from '../../src/store/disk/disk.js';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface ThreeProtocolBroker {
  broker: Broker;
  amqpPort: number;
  mqttPort: number;
  stompPort: number;
  /** every line the broker logged at info and above, parsed */
  logs: LogLine[];
  /** amqp://user:pass@127.0.0.1:port/vhost */
  amqpUrl(user?: string, pass?: string, vhost?: string): string;
  stop(): Promise<void>;
}

/** `setup.disk`: the store's file I/O (a simulated or gated disk, test/helpers); `setup.dataDir`: use this directory (kept) instead of a fresh one */
export async function startThreeProtocols(
  options: Partial<BrokerOptions> = {},
  setup: { disk?: Disk; dataDir?: string } = {},
): Promise<ThreeProtocolBroker> {
  const dataDir = setup.dataDir ?? (await mkdtemp(join(tmpdir(), 'warren-security-')));
  const removeDataDir = setup.dataDir === undefined;
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    output: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  });
  const { amqp, mqtt, stomp, ...rest } = options;
  const broker = new Broker(
    {
      dataDir,
      amqp: { port: 0, host: '127.0.0.1', ...(amqp as object) },
      mqtt: { port: 0, host: '127.0.0.1', ws_enabled: false, ...(mqtt as object) },
      stomp: { port: 0, host: '127.0.0.1', ws_enabled: false, ...(stomp as object) },
      ...rest,
    },
    { logger, disk: setup.disk, plugins: { amqp: BUILTIN_PLUGINS['amqp']!, mqtt: BUILTIN_PLUGINS['mqtt']!, stomp: BUILTIN_PLUGINS['stomp']! } },
  );
  try {
    await broker.start();
  } catch (e) {
    if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const port = (name: string) => broker.listeners().find((l) => l.name === name)?.port ?? 0;
  const amqpPort = port('amqp');
  return {
    broker,
    amqpPort,
    mqttPort: port('mqtt'),
    stompPort: port('stomp'),
    logs,
    amqpUrl: (user = 'guest', pass = 'guest', vhost = '/') =>
      `amqp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${amqpPort}/${encodeURIComponent(vhost)}`,
    stop: async () => {
      try {
        await broker.stop();
      } finally {
        if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Poll until `predicate` holds (generous default: the machine may be loaded). */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
