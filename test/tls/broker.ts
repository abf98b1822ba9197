/**
 * An in-process Warren with TLS listeners on OS-chosen ports, certificates from certs.ts,
 * users named after the client certificates' CNs, and log lines kept for assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../src/broker.js';
import { createLogger } from '../../src/log/index.js';
import type { TestCerts } from './certs.js';

export interface TlsTestBroker {
  broker: Broker;
  /** log lines (text format) at the level asked for */
  logs: string[];
  port(listener: string): number;
  stop(): Promise<void>;
}

/**
 * `options` are merged over `sslOptions` from `certs` (verify_peer, fail_if_no_peer_cert off);
 * `users` are created with full rights on '/' (password = name).
 */
export async function startTlsBroker(certs: TestCerts, options: BrokerOptions, users: string[] = [], logLevel: 'debug' | 'warn' = 'warn'): Promise<TlsTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-tls-data-'));
  const logs: string[] = [];
  const logger = createLogger({ level: logLevel, format: 'text', output: { write: (line: string) => void logs.push(line) } });
  const { sslOptions, ...rest } = options;
  const broker = new Broker(
    {
      dataDir,
      sslOptions: {
        certfile: certs.serverCertFile,
        keyfile: certs.serverKeyFile,
        cacertfile: certs.caFile,
        verify: 'verify_peer',
        ...sslOptions,
      },
      ...rest,
    },
    { logger },
  );
  try {
    await broker.start();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  for (const name of users) {
    broker.core.users.add(name, name);
    broker.core.users.setPermissions(name, '/', { configure: '.*', write: '.*', read: '.*' });
  }
  return {
    broker,
    logs,
    port: (listener) => broker.address(listener).port,
    stop: async () => {
      try {
        await broker.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Poll `check` until it returns true or `ms` pass (a loaded machine gets generous deadlines). */
export async function waitFor(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
