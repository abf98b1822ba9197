import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/schema.js';
import type { PluginManifest } from '../../../src/plugin-host/manifest.js';
import { tcpPlugin } from '../plugin-host/test-plugins.js';

const amqp: PluginManifest = {
  ...tcpPlugin('amqp', { journal: [] }),
  configSchema: {
    port: { type: 'integer', default: 5672, min: 0, max: 65535, doc: 'AMQP port.', env: 'AMQP_PORT' },
    host: { type: 'string', default: '0.0.0.0', doc: 'Listen address.' },
    heartbeat: { type: 'duration', default: '60s', doc: 'Heartbeat.' },
    frame_max: { type: 'integer', default: 131072, min: 4096, doc: 'Largest frame.' },
  },
};
const mqtt = tcpPlugin('mqtt', { journal: [], enabledByDefault: false });
const manifests = [amqp, mqtt];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function conf(text: string, name = 'warren.conf'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('loadConfig', () => {
  it('gives the defaults when there is nothing else, plugin sections filled in', () => {
    const c = loadConfig(manifests, { cwd: dir });
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.log).toEqual({ level: 'info', format: 'json', output: 'stderr' });
    expect(c.defaultUser).toBe('guest');
    expect(c.defaultPass).toBe('guest');
    expect(c.defaultVhost).toBe('/');
    expect(c.loopbackUsers).toEqual(['guest']);
    expect(c.shutdownTimeoutMs).toBe(10_000);
    expect(c.plugins.get('amqp')).toEqual({ enabled: true, config: { port: 5672, host: '0.0.0.0', heartbeat: 60_000, frame_max: 131072 } });
    expect(c.plugins.get('mqtt')?.enabled).toBe(false);
    expect(c.settings.get('amqp.port')).toEqual({ value: 5672, source: 'default' });
    expect(c.file).toBeUndefined();
  });

  it('layers defaults < file < env < flags < options, key by key, recording each source', () => {
    const file = conf('amqp.port = 1001\namqp.host = 10.0.0.1\nlog.level = debug\ndefault_vhost = files\nplugins.mqtt.enabled = true\n');
    const c = loadConfig(manifests, {
      cwd: dir,
      file,
      env: { WARREN_AMQP_PORT: '1002', WARREN_LOG_LEVEL: 'warn', WARREN_DEFAULT_VHOST: 'envs', PATH: '/bin' },
      argv: ['--amqp.port', '1003', '--log.level=error'],
      options: { amqp: { port: 1004 } },
    });
    expect(c.plugins.get('amqp')!.config.port).toBe(1004);
    expect(c.settings.get('amqp.port')!.source).toBe('option amqp.port');
    expect(c.plugins.get('amqp')!.config.host).toBe('10.0.0.1');
    expect(c.settings.get('amqp.host')!.source).toBe(`${file}:2`);
    expect(c.log.level).toBe('error');
    expect(c.settings.get('log.level')!.source).toBe('flag --log.level');
    expect(c.defaultVhost).toBe('envs');
    expect(c.settings.get('default_vhost')!.source).toBe('env WARREN_DEFAULT_VHOST');
    expect(c.plugins.get('mqtt')!.enabled).toBe(true);
    expect(c.file).toBe(file);
  });

  it('validates plugin sections with the manifest schema, naming file and line', () => {
    const file = conf('# ports\n\namqp.port = 70000\n');
    expect(errorOf(() => loadConfig(manifests, { file, cwd: dir })))
      .toBe(`invalid value "70000" for amqp.port (${file}:3): expected an integer from 0 to 65535`);
    expect(errorOf(() => loadConfig(manifests, { file: conf('amqp.frame_max = 100'), cwd: dir })))
      .toMatch(/amqp\.frame_max .*of at least 4096/);
    expect(errorOf(() => loadConfig(manifests, { file: conf('amqp.heartbeat = 60'), cwd: dir })))
      .toMatch(/amqp\.heartbeat .*duration with a unit/);
  });

  it('names the environment variable and the flag of a bad value', () => {
    expect(errorOf(() => loadConfig(manifests, { env: { WARREN_AMQP_PORT: 'abc' } })))
      .toBe('invalid value "abc" for amqp.port (env WARREN_AMQP_PORT): expected an integer from 0 to 65535');
    expect(errorOf(() => loadConfig(manifests, { argv: ['--log.level', 'loud'] })))
      .toBe('invalid value "loud" for log.level (flag --log.level): expected one of debug, info, warn, error, silent');
    expect(errorOf(() => loadConfig(manifests, { options: { amqp: { port: 'x' } } })))
      .toMatch(/for amqp\.port \(option amqp\.port\)/);
  });

  it('reads the extra env name a schema declares, and refuses two names set differently', () => {
    expect(loadConfig(manifests, { env: { AMQP_PORT: '2000' } }).plugins.get('amqp')!.config.port).toBe(2000);
    expect(loadConfig(manifests, { env: { AMQP_PORT: '2000', WARREN_AMQP_PORT: '2000' } }).plugins.get('amqp')!.config.port).toBe(2000);
    expect(errorOf(() => loadConfig(manifests, { env: { AMQP_PORT: '2000', WARREN_AMQP_PORT: '2001' } })))
      .toBe('env WARREN_AMQP_PORT and env AMQP_PORT both set amqp.port, to different values');
  });

  it('treats empty environment variables as unset', () => {
    expect(loadConfig(manifests, { env: { WARREN_AMQP_PORT: '', WARREN_NOTHING: '' } }).plugins.get('amqp')!.config.port).toBe(5672);
  });

  it('refuses unknown keys from every source, suggesting the nearest known one', () => {
    const file = conf('amqp.prot = 1\n');
    expect(errorOf(() => loadConfig(manifests, { file }))).toBe(`unknown key amqp.prot (${file}:1); did you mean amqp.port?`);
    expect(errorOf(() => loadConfig(manifests, { env: { WARREN_AMQP_PROT: '1' } })))
      .toBe('unknown environment variable WARREN_AMQP_PROT; did you mean WARREN_AMQP_PORT?');
    expect(errorOf(() => loadConfig(manifests, { argv: ['--data-dri', 'x'] }))).toBe('unknown key data_dri (flag --data-dri); did you mean data_dir?');
    expect(errorOf(() => loadConfig(manifests, { options: { dataDri: 'x' } }))).toBe('unknown key data_dri (option dataDri); did you mean data_dir?');
    expect(errorOf(() => loadConfig(manifests, { argv: ['--stomp.port', '1'] }))).toBe('unknown key stomp.port (flag --stomp.port)');
    expect(errorOf(() => loadConfig(manifests, { argv: ['start'] }))).toMatch(/unexpected argument "start"/);
  });

  it('takes flags as --key value, --key=value, kebab-case, and a lone boolean flag as true', () => {
    const c = loadConfig(manifests, {
      cwd: dir,
      argv: ['--data-dir', 'var/w', '--amqp.frame-max=8192', '--plugins.mqtt.enabled', '--default_user', 'admin'],
    });
    expect(c.dataDir).toBe(join(dir, 'var/w'));
    expect(c.plugins.get('amqp')!.config.frame_max).toBe(8192);
    expect(c.plugins.get('mqtt')!.enabled).toBe(true);
    expect(c.defaultUser).toBe('admin');
  });

  it('takes options in camelCase or snake_case, nested at the dots; undefined means unset', () => {
    const c = loadConfig(manifests, {
      cwd: dir,
      options: {
        dataDir: '/tmp/x', log: { level: 'warn', format: 'text' }, amqp: { frameMax: 8192, host: undefined },
        loopbackUsers: [], shutdownTimeout: '1s', plugins: { mqtt: { enabled: true } },
      },
    });
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.log).toMatchObject({ level: 'warn', format: 'text' });
    expect(c.plugins.get('amqp')!.config).toMatchObject({ frame_max: 8192, host: '0.0.0.0' });
    expect(c.loopbackUsers).toEqual([]);
    expect(c.shutdownTimeoutMs).toBe(1000);
    expect(c.plugins.get('mqtt')!.enabled).toBe(true);
  });

  it('chooses the conf file: --config over WARREN_CONFIG over the given one; the default one only if present', () => {
    const a = conf('default_vhost = a\n', 'a.conf');
    const b = conf('default_vhost = b\n', 'b.conf');
    const c = conf('default_vhost = c\n', 'c.conf');
    expect(loadConfig(manifests, { cwd: dir, file: a, env: { WARREN_CONFIG: b }, argv: ['--config', c] }).defaultVhost).toBe('c');
    expect(loadConfig(manifests, { cwd: dir, file: a, env: { WARREN_CONFIG: b } }).defaultVhost).toBe('b');
    expect(loadConfig(manifests, { cwd: dir, file: 'a.conf' }).defaultVhost).toBe('a');
    expect(loadConfig(manifests, { cwd: dir, defaultFile: 'a.conf' }).defaultVhost).toBe('a');
    expect(loadConfig(manifests, { cwd: dir, defaultFile: 'missing.conf' }).file).toBeUndefined();
    expect(errorOf(() => loadConfig(manifests, { cwd: dir, argv: ['--config', 'missing.conf'] })))
      .toBe('config file missing.conf not found (flag --config)');
    expect(errorOf(() => loadConfig(manifests, { cwd: dir, env: { WARREN_CONFIG: 'nope.conf' } })))
      .toBe('config file nope.conf not found (env WARREN_CONFIG)');
  });

  it('refuses plugins whose sections clash with the broker or each other', () => {
    const clash = { ...tcpPlugin('log', { journal: [] }) };
    expect(() => loadConfig([clash])).toThrow(/section 'log' is reserved/);
    const twin = { ...tcpPlugin('other', { journal: [] }), configSection: 'amqp' };
    expect(() => loadConfig([amqp, twin])).toThrow(/section 'amqp' is already used by plugin amqp/);
    const envClash = { ...tcpPlugin('x', { journal: [] }), configSchema: { a: { type: 'integer' as const, default: 1, doc: 'a', env: 'WARREN_DATA_DIR' } } };
    expect(() => loadConfig([envClash])).toThrow(/WARREN_DATA_DIR would set both data_dir and x\.a/);
  });
});
