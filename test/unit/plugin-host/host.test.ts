import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Core } from '../../../src/core/core.js';
import { createLogger, type LogSink } from '../../../src/log/index.js';
import { loadManifests, PluginError, PluginHost, startOrder, validateManifest } from '../../../src/plugin-host/host.js';
import type { PluginContext, PluginManifest } from '../../../src/plugin-host/manifest.js';
import { tableOf, tcpPlugin, type Journal } from './test-plugins.js';

function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const sink: LogSink = { write: (l: string) => lines.push(JSON.parse(l)) };
  return { lines, log: createLogger({ output: sink, level: 'debug' }) };
}

function hostWith(stopTimeoutMs = 2000) {
  const { lines, log } = memoryLog();
  const core = new Core({ log });
  return { lines, core, host: new PluginHost({ core, log, stopTimeoutMs }) };
}

const noConfig = new Map<string, Record<string, number | string | boolean>>();

function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.once('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('manifest validation', () => {
  const good = tcpPlugin('amqp', { journal: [] });

  it('accepts a well-formed manifest', () => {
    expect(validateManifest(good, 'amqp')).toBe(good);
  });

  it('names the plugin and the fault', () => {
    expect(() => validateManifest(undefined, 'amqp')).toThrow('plugin amqp: invalid manifest: the module has no default export object');
    expect(() => validateManifest(good, 'mqtt')).toThrow("its name is 'amqp' but it is registered as 'mqtt'");
    expect(() => validateManifest({ ...good, start: undefined }, 'amqp')).toThrow('start must be a function');
    expect(() => validateManifest({ ...good, version: '' }, 'amqp')).toThrow('version must be');
    expect(() => validateManifest({ ...good, enabledByDefault: 'yes' }, 'amqp')).toThrow('enabledByDefault');
    expect(() => validateManifest({ ...good, dependsOn: 'core' }, 'amqp')).toThrow('dependsOn');
    expect(() => validateManifest({ ...good, configSection: 'AMQP' }, 'amqp')).toThrow('configSection');
    const badDefault = { ...good, configSchema: { port: { type: 'integer', default: -1, min: 0, doc: 'p' } } };
    expect(() => validateManifest(badDefault, 'amqp')).toThrow(/amqp\.port.*default declared by plugin amqp/);
    const list = { ...good, configSchema: { users: { type: 'list', default: [], doc: 'u' } } };
    expect(() => validateManifest(list, 'amqp')).toThrow('plugin keys cannot be lists');
  });

  it('loadManifests imports every table entry and reports one that fails to load', async () => {
    const journal: Journal = [];
    const ms = await loadManifests(tableOf(tcpPlugin('a', { journal }), tcpPlugin('b', { journal })));
    expect(ms.map((m) => m.name)).toEqual(['a', 'b']);
    expect(journal).toEqual([]); // loading starts nothing
    await expect(loadManifests({ broken: () => Promise.reject(new Error('syntax error')) }))
      .rejects.toThrow('plugin broken could not be loaded: syntax error');
  });
});

describe('startOrder', () => {
  const p = (name: string, dependsOn?: string[]) => tcpPlugin(name, { journal: [], ...(dependsOn ? { dependsOn } : {}) });
  const all = () => true;

  it('puts every plugin after its dependencies, otherwise keeps table order', () => {
    const order = startOrder([p('web_mqtt', ['mqtt']), p('amqp'), p('mqtt', ['amqp']), p('stomp')], all);
    expect(order.map((m) => m.name)).toEqual(['amqp', 'mqtt', 'web_mqtt', 'stomp']);
  });

  it('leaves disabled plugins out', () => {
    expect(startOrder([p('amqp'), p('mqtt')], (n) => n !== 'mqtt').map((m) => m.name)).toEqual(['amqp']);
  });

  it('refuses unknown and disabled dependencies and cycles', () => {
    expect(() => startOrder([p('a', ['zz'])], all)).toThrow('plugin a depends on zz, which is not a known plugin');
    expect(() => startOrder([p('a', ['b']), p('b')], (n) => n === 'a'))
      .toThrow('plugin a depends on b, which is disabled (plugins.b.enabled = false)');
    expect(() => startOrder([p('a', ['b']), p('b', ['c']), p('c', ['a'])], all)).toThrow('plugin dependency cycle: a -> b -> c -> a');
  });
});

describe('PluginHost', () => {
  it('starts in order, hands each plugin a narrow context, stops in reverse with the reason', async () => {
    const journal: Journal = [];
    const contexts = new Map<string, PluginContext>();
    const a = tcpPlugin('a', { journal, contexts });
    const b = tcpPlugin('b', { journal, contexts, dependsOn: ['a'], adminAccess: true });
    const { host, core, lines } = hostWith();
    await host.start([a, b], new Map([['a', { port: 0, host: '127.0.0.1', extra: 1 }]]));
    expect(host.running()).toEqual(['a', 'b']);
    const [la, lb] = host.addresses();
    expect(la!.name).toBe('a');
    expect(lb!.port).toBeGreaterThan(0);
    expect(await echo(la!.port, 'ping')).toBe('ping');

    const ctx = contexts.get('a')!;
    expect(Object.keys(ctx).sort()).toEqual(['admin', 'cluster', 'config', 'core', 'kafka', 'listeners', 'log', 'tls']);
    expect(ctx.kafka()).toBeNull(); // no plugin offers a Kafka view
    expect(ctx.cluster()).toBeNull(); // a single node
    expect(ctx.core).toBe(core);
    expect(ctx.admin).toBeNull(); // only a plugin whose manifest asks gets the admin interface
    expect(contexts.get('b')!.admin).toBe(core);
    expect(ctx.config).toEqual({ port: 0, host: '127.0.0.1', extra: 1 });
    expect(Object.isFrozen(ctx.config)).toBe(true);
    ctx.log.info('hello from a');
    expect(lines.find((l) => l.msg === 'hello from a')).toMatchObject({ plugin: 'a' });
    expect(lines.filter((l) => l.msg === 'plugin started').map((l) => l.plugin)).toEqual(['a', 'b']);

    await host.stop('going down');
    expect(journal).toEqual(['start a', 'start b', 'stop b: going down', 'stop a: going down']);
    expect(await refused(la!.port)).toBe(true);
    expect(host.running()).toEqual([]);
    await host.stop('again'); // nothing left: no second stop
    expect(journal).toHaveLength(4);
  });

  it("hands every plugin the Kafka view a running plugin offers (PluginContext.kafka())", async () => {
    const view = { topics: () => [], groups: () => [] };
    const offering: PluginManifest = {
      name: 'offers',
      version: '1.0.0',
      configSection: 'offers',
      configSchema: {},
      enabledByDefault: true,
      start: async () => ({ addresses: () => [], stop: async () => undefined, kafka: view }),
    };
    const contexts = new Map<string, PluginContext>();
    const reader = tcpPlugin('reader', { journal: [], contexts });
    const { host } = hostWith();
    await host.start([reader, offering], new Map());
    // asked later, as management asks per request: the view of a plugin started after it
    expect(contexts.get('reader')!.kafka()).toBe(view);
    await host.stop('done');
    expect(contexts.get('reader')!.kafka()).toBeNull();
  });

  it('a plugin that fails to start: logged, the started ones stopped in reverse, start rejects', async () => {
    const journal: Journal = [];
    const ms = [
      tcpPlugin('a', { journal }),
      tcpPlugin('b', { journal }),
      tcpPlugin('c', { journal, failStart: 'port in use' }),
      tcpPlugin('d', { journal }),
    ];
    const { host, lines } = hostWith();
    const started = host.start(ms, noConfig);
    await expect(started).rejects.toThrow(PluginError);
    await expect(started).rejects.toThrow('plugin c failed to start: port in use');
    expect(journal).toEqual([
      'start a', 'start b', 'start c',
      'stop b: broker start failed: plugin c did not start',
      'stop a: broker start failed: plugin c did not start',
    ]);
    const failure = lines.find((l) => l.msg === 'plugin failed to start')!;
    expect(failure).toMatchObject({ level: 'error', plugin: 'c', err: { message: 'port in use' } });
    expect(host.running()).toEqual([]);
  });

  it('a start() that returns no RunningPlugin counts as a failure', async () => {
    const bogus: PluginManifest = { ...tcpPlugin('x', { journal: [] }), start: async () => ({}) as never };
    const { host } = hostWith();
    await expect(host.start([bogus], noConfig)).rejects.toThrow('plugin x failed to start: start() did not return a RunningPlugin');
  });

  it('a plugin that fails or hangs on stop is logged and skipped; the others still stop', async () => {
    const journal: Journal = [];
    const ms = [tcpPlugin('a', { journal }), tcpPlugin('b', { journal, failStop: true }), tcpPlugin('c', { journal, hangOnStop: true })];
    const { host, lines } = hostWith(200);
    await host.start(ms, noConfig);
    const t0 = Date.now();
    await host.stop('bye');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(journal.slice(3)).toEqual(['stop c: bye', 'stop b: bye', 'stop a: bye']);
    expect(lines.find((l) => l.msg === 'plugin did not stop in time; moving on')).toMatchObject({ plugin: 'c', timeoutMs: 200 });
    expect(lines.find((l) => l.msg === 'plugin failed to stop')).toMatchObject({ plugin: 'b', err: { message: 'b cannot stop' } });
    expect(lines.filter((l) => l.msg === 'plugin stopped').map((l) => l.plugin)).toEqual(['a']);
  });
});
