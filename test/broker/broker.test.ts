import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker, ConfigError, createLogger, PluginError } from '../../src/index.js';
import { tableOf, tcpPlugin, type Journal } from '../unit/plugin-host/test-plugins.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-broker-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const quiet = createLogger({ level: 'silent' });

/** Connects, then resolves with everything the server sent until it closed the socket. */
function connectAndWait(port: number): { connected: Promise<void>; received: Promise<string> } {
  const s = connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (d) => (data += d.toString()));
  return {
    connected: new Promise((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    }),
    received: new Promise((resolve) => s.once('close', () => resolve(data))),
  };
}

describe('Broker', () => {
  it('starts its plugins with options as config, reports real ports, stops in reverse telling clients', async () => {
    const journal: Journal = [];
    const broker = new Broker(
      { dataDir: join(dir, 'nested', 'data'), amqp: { port: 0, host: '127.0.0.1' }, mqtt: {} },
      { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal }), tcpPlugin('mqtt', { journal, dependsOn: ['amqp'] })) },
    );
    expect(broker.state).toBe('new');
    await broker.start();
    expect(broker.state).toBe('running');
    expect(existsSync(join(dir, 'nested', 'data'))).toBe(true);
    expect(broker.config.dataDir).toBe(join(dir, 'nested', 'data'));

    const { host, port } = broker.address('amqp');
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(broker.url('amqp')).toBe(`amqp://guest:guest@127.0.0.1:${port}`);
    expect(broker.listeners().map((l) => l.name)).toEqual(['amqp', 'mqtt']);
    expect(() => broker.address('stomp')).toThrow('no listener named stomp (listeners: amqp, mqtt)');

    const client = connectAndWait(port);
    await client.connected;
    await broker.stop();
    expect(await client.received).toBe("bye: broker forced connection closure with reason 'shutdown'");
    expect(journal).toEqual([
      'start amqp', 'start mqtt',
      "stop mqtt: broker forced connection closure with reason 'shutdown'",
      "stop amqp: broker forced connection closure with reason 'shutdown'",
    ]);
    expect(broker.state).toBe('stopped');
    await broker.stop('twice'); // idempotent
    expect(journal).toHaveLength(4);
  });

  it('gives the core the broker-level settings', async () => {
    const broker = new Broker(
      { dataDir: dir, defaultUser: 'admin', defaultPass: 's3cret', defaultVhost: 'prod', loopbackUsers: [] },
      { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal: [] })) },
    );
    await broker.start();
    expect(broker.core.login('admin', 's3cret', '10.1.2.3')).toEqual({ ok: true, user: 'admin' });
    expect(broker.core.login('guest', 'guest', '127.0.0.1').ok).toBe(false);
    expect(broker.core.hasVhost('prod')).toBe(true);
    const { port } = broker.address('amqp');
    expect(broker.url('amqp')).toBe(`amqp://admin:s3cret@127.0.0.1:${port}/prod`);
    await broker.stop();
  });

  it('turns a wildcard listen address into loopback in url(), and escapes credentials', async () => {
    const broker = new Broker(
      { dataDir: dir, defaultPass: 'p@ss/word', amqp: { host: '0.0.0.0' } },
      { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal: [] })) },
    );
    await broker.start();
    expect(broker.url('amqp')).toBe(`amqp://guest:p%40ss%2Fword@127.0.0.1:${broker.address('amqp').port}`);
    await broker.stop();
  });

  it('does not start disabled plugins', async () => {
    const journal: Journal = [];
    const broker = new Broker(
      { dataDir: dir, plugins: { mqtt: { enabled: false } } },
      { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal }), tcpPlugin('mqtt', { journal })) },
    );
    await broker.start();
    expect(journal).toEqual(['start amqp']);
    await broker.stop();
  });

  it('rejects a bad config before anything starts', async () => {
    const journal: Journal = [];
    const broker = new Broker({ dataDir: dir, amqp: { port: 'x' } }, { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal })) });
    await expect(broker.start()).rejects.toThrow(ConfigError);
    expect(journal).toEqual([]);
    expect(broker.state).toBe('stopped');
    await expect(broker.start()).rejects.toThrow('broker cannot start: it is stopped');
    await broker.stop(); // harmless
  });

  it('a plugin failure leaves nothing running', async () => {
    const journal: Journal = [];
    const broker = new Broker(
      { dataDir: dir },
      { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal }), tcpPlugin('mqtt', { journal, failStart: 'boom' })) },
    );
    await expect(broker.start()).rejects.toThrow(PluginError);
    expect(journal).toEqual(['start amqp', 'start mqtt', 'stop amqp: broker start failed: plugin mqtt did not start']);
    expect(broker.state).toBe('stopped');
    expect(broker.listeners()).toEqual([]);
  });

  it('stop() during start waits for the start, then stops', async () => {
    const journal: Journal = [];
    const broker = new Broker({ dataDir: dir }, { logger: quiet, plugins: tableOf(tcpPlugin('amqp', { journal })) });
    const starting = broker.start();
    const stopping = broker.stop('early');
    await starting;
    await stopping;
    expect(journal).toEqual(['start amqp', 'stop amqp: early']);
    expect(broker.state).toBe('stopped');
  });
});

describe('Broker: which plugins an embedded broker starts', () => {
  const table = (journal: Journal) =>
    tableOf(tcpPlugin('amqp', { journal }), tcpPlugin('mqtt', { journal }), tcpPlugin('stomp', { journal }), tcpPlugin('extra', { journal, enabledByDefault: false }));

  it('options naming plugin sections: only those plugins start', async () => {
    const journal: Journal = [];
    const broker = new Broker({ dataDir: dir, amqp: { port: 0 } }, { logger: quiet, plugins: table(journal) });
    await broker.start();
    expect(broker.listeners().map((l) => l.name)).toEqual(['amqp']);
    await broker.stop();
  });

  it('an explicit enable switch still wins, in the options or in a lower layer', async () => {
    const journal: Journal = [];
    const broker = new Broker(
      { dataDir: dir, amqp: { port: 0 }, plugins: { mqtt: { enabled: true } } },
      { logger: quiet, plugins: table(journal), config: { env: { WARREN_PLUGINS_EXTRA_ENABLED: 'true' } } },
    );
    await broker.start();
    expect(broker.listeners().map((l) => l.name)).toEqual(['amqp', 'mqtt', 'extra']);
    await broker.stop();
  });

  it('options naming no section: every plugin enabled by default starts, as with the CLI', async () => {
    const journal: Journal = [];
    const broker = new Broker({ dataDir: dir }, { logger: quiet, plugins: table(journal) });
    await broker.start();
    expect(broker.listeners().map((l) => l.name)).toEqual(['amqp', 'mqtt', 'stomp']);
    await broker.stop();
  });
});
