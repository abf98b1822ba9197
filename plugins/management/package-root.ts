/**
 * Where Warren's package lives, whichever copy of this file runs: the sources under vitest,
 * dist/ after `npm run build`, or a test build elsewhere. The web UI's static files are not
 * compiled, so they are always read from `<package>/plugins/management/ui`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  root: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'warren' && existsSync(join(dir, 'plugins', 'management', 'ui'))) {
          return (cached = { root: dir, version: pkg.version ?? 'unknown' });
        }
      } catch {
        // not ours: keep looking up
      }
    }
    dir = dirname(dir);
  }
  return (cached = { root: '', version: 'unknown' });
}

export function uiDirectory(): string | null {
  const { root } = packageInfo();
  return root === '' ? null : join(root, 'plugins', 'management', 'ui');
}
