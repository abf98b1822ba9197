import { BROKER_KEYS } from '../../../src/config/defaults.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { renderConf } from '../../../src/config/render-conf.js';
import { BUILTIN_PLUGINS } from '../../../src/plugin-host/builtin.js';
import { loadManifests } from '../../../src/plugin-host/host.js';
import { tcpPlugin } from '../plugin-host/test-plugins.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('conf/warren.conf', () => {
  it('is exactly what `npm run gen-conf` generates from the code (no drift)', async () => {
    const committed = readFileSync(join(root, 'conf', 'warren.conf'), 'utf8');
    const generated = renderConf(await loadManifests(BUILTIN_PLUGINS));
    expect(committed, 'conf/warren.conf is out of date: run npm run gen-conf').toBe(generated);
  });

  it('documents every key with its env var, and each default reads back as the default', () => {
    const plugin = tcpPlugin('amqp', { journal: [] });
    plugin.configSchema = {
      ...plugin.configSchema,
      heartbeat: { type: 'duration', default: 60_000, doc: 'Heartbeat.' },
      verbose: { type: 'boolean', default: false, doc: 'Verbose.' },
    };
    const text = renderConf([plugin]);
    expect(text).toContain('# env: WARREN_AMQP_PORT\n# amqp.port = 0\n');
    expect(text).toContain('# amqp.heartbeat = 1m\n');
    expect(text).toContain('# plugins.amqp.enabled = true\n');
    expect(text).toContain('# loopback_users = guest\n');
    // Uncomment every setting: the result must load and equal the defaults.
    const uncommented = text.replace(/^# ([a-z_.]+ = .*)$/gm, '$1');
    const settings = uncommented.split('\n').filter((l) => /^[a-z]/.test(l));
    // every broker key, the plugin's enable switch, and the plugin's four keys
    expect(settings.length).toBe(Object.keys(BROKER_KEYS).length + 1 + 4);
    const dir = mkdtempSync(join(tmpdir(), 'warren-conf-'));
    try {
      writeFileSync(join(dir, 'all.conf'), uncommented);
      const fromFile = loadConfig([plugin], { file: 'all.conf', cwd: dir });
      const defaults = loadConfig([plugin], { cwd: dir });
      for (const [key, { value, source }] of fromFile.settings) {
        expect(source, key).toMatch(/^all\.conf:\d+$/);
        expect(value, key).toEqual(defaults.settings.get(key)!.value);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
