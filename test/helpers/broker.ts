/**
 * The broker a test talks to.
 *
 * With `WARREN_TEST_AMQP_URL` set (e.g. amqp://guest:guest@127.0.0.1:5672 for a local
 * RabbitMQ), every test runs against that external broker, which is how the suite is
 * checked against the reference implementation; `stop()` then leaves it alone.
 * Otherwise each call starts an in-process Warren on an OS-chosen port with a fresh
 * temporary data directory, and `stop()` stops it and removes the directory.
 * Tests use unique queue and exchange names, so a shared external broker is fine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestBroker {
  /** amqp:// URL with credentials, ready for amqplib. */
  url: string;
  host: string;
  port: number;
  /** True when the suite runs against WARREN_TEST_AMQP_URL rather than an in-process Warren. */
  external: boolean;
  stop(): Promise<void>;
}

export const externalBrokerUrl: string | undefined = process.env.WARREN_TEST_AMQP_URL || undefined;

/** For `it.skipIf(isExternalBroker)`: tests of Warren-only behaviour. */
export const isExternalBroker = externalBrokerUrl !== undefined;

/** The part of Warren's public `Broker` class these tests rely on. */
interface EmbeddedBroker {
  start(): Promise<void>;
  stop(): Promise<void>;
  address(protocol: 'amqp'): { host: string; port: number };
}
type BrokerConstructor = new (options: {
  dataDir: string;
  log: { level: string };
  amqp: { port: number; host: string };
}) => EmbeddedBroker;

export async function startBroker(): Promise<TestBroker> {
  if (externalBrokerUrl !== undefined) {
    const parsed = new URL(externalBrokerUrl);
    return {
      url: externalBrokerUrl,
      host: parsed.hostname,
      port: parsed.port === '' ? 5672 : Number(parsed.port),
      external: true,
      stop: async () => {},
    };
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'warren-test-'));
  let broker: EmbeddedBroker;
  try {
    // Loaded lazily so that a run against an external broker does not need Warren to build.
    const { Broker } = (await import('../../src/index.js')) as unknown as { Broker: BrokerConstructor };
    broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
    await broker.start();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { host, port } = broker.address('amqp');
  let stopped = false;
  return {
    url: `amqp://guest:guest@${host}:${port}`,
    host,
    port,
    external: false,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await broker.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
