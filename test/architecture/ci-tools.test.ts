/**
 * `.ci/run` installs every Debian package a test asks for, and in CI (`CI=true`) a missing
 * tool fails its test instead of skipping it (test/helpers/require-tool.ts). A test that
 * names a package `.ci/run` does not install would pass here, where everything is installed,
 * and fail on a fresh CI runner: this compares the two lists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

/** The names in DEBIAN_PACKAGES=( … ) of .ci/run, one a line, comments dropped. */
function ciPackages(): string[] {
  const script = readFileSync(join(root, '.ci', 'run'), 'utf8');
  const list = /^DEBIAN_PACKAGES=\(\n([\s\S]*?)^\)/m.exec(script);
  if (!list) throw new Error('.ci/run has no DEBIAN_PACKAGES=( … ) list');
  return list[1]!
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Debian packages the tests name through require-tool.ts, with the files naming them. */
function packagesNamedByTests(): Map<string, string[]> {
  const named = new Map<string, string[]>();
  const call = /\b(?:hasExecutable|hasPythonModule)\(\s*[^,()]+,\s*'([^']+)'/g;
  // this file names made-up packages on purpose
  for (const file of testSources(join(root, 'test')).filter((f) => f !== import.meta.filename)) {
    for (const m of readFileSync(file, 'utf8').matchAll(call)) {
      const files = named.get(m[1]!) ?? [];
      files.push(relative(root, file));
      named.set(m[1]!, files);
    }
  }
  return named;
}

describe('.ci/run and the tools tests need', () => {
  it('installs every Debian package a test names (etcd-server, kcat, chromium, python3-pika …)', () => {
    const installed = ciPackages();
    const named = packagesNamedByTests();
    // the tools known to be used today are found (the scan itself works)
    for (const p of ['etcd-server', 'kcat', 'chromium', 'python3-pika', 'python3-celery', 'python3-stomp', 'rabbitmq-server', 'bsdutils']) {
      expect(named.has(p), `no test names ${p}: has the scan stopped finding require-tool.ts calls?`).toBe(true);
    }
    const missing = [...named].filter(([p]) => !installed.includes(p)).map(([p, files]) => `${p} (${files.join(', ')})`);
    expect(missing, 'Debian packages tests need that .ci/run does not install').toEqual([]);
  });

  describe('a missing tool', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.resetModules();
    });

    async function requireTool(ci: string) {
      vi.stubEnv('CI', ci);
      vi.resetModules();
      return import('../helpers/require-tool.js');
    }

    it('with CI=true fails the test file loading it, naming the package to add to .ci/run', async () => {
      const { hasExecutable, hasPythonModule } = await requireTool('true');
      expect(() => hasExecutable('/nonexistent/bin/etcd', 'etcd-server', 'a cluster test')).toThrow(/a cluster test: \/nonexistent\/bin\/etcd is missing \(Debian package etcd-server.*add etcd-server to the package list in \.ci\/run/);
      expect(() => hasPythonModule('no_such_module_anywhere', 'python3-nothing', 'a Python test')).toThrow(/python3-nothing/);
      expect(hasExecutable(process.execPath, 'nodejs', 'a test')).toBe(true);
    });

    it('elsewhere skips (false, with a warning)', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const { hasExecutable } = await requireTool('');
        expect(hasExecutable('/nonexistent/bin/etcd', 'etcd-server', 'a cluster test')).toBe(false);
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/a cluster test skipped: .*etcd-server/));
      } finally {
        warn.mockRestore();
      }
    });
  });
});
