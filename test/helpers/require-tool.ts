/**
 * Tests that drive an outside tool (Debian's chromium, rabbitmqadmin, a Python client …) ask
 * here whether it is installed. The rule lives in one place:
 *
 * - in CI (`CI=true`) a missing tool is an error thrown when the test file loads, so the file
 *   fails, naming the tool and its Debian package; `.ci/run` installs every package a test
 *   needs, so this only happens when that list and the tests disagree;
 * - elsewhere (a developer's machine) the test is skipped with a warning saying what to
 *   install, and `false` is returned for `describe.skipIf(!…)`.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { networkInterfaces } from 'node:os';

export const inCI = process.env.CI === 'true';

/** The interpreter Debian's python3-* packages install into (`python3` on PATH may be another). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function missing(usedBy: string, what: string, debianPackage: string): false {
  const why = `${what} is missing (Debian package ${debianPackage}: apt-get install ${debianPackage})`;
  if (inCI) throw new Error(`${usedBy}: ${why}. With CI=true a test never skips for want of a tool: add ${debianPackage} to the package list in .ci/run`);
  console.warn(`${usedBy} skipped: ${why}`);
  return false;
}

/** Whether the executable at `path` exists (see the rule above for when it does not). */
export function hasExecutable(path: string, debianPackage: string, usedBy: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return missing(usedBy, path, debianPackage);
  }
}

/** Whether Debian's python3 can import `module` (see the rule above for when it cannot). */
export function hasPythonModule(module: string, debianPackage: string, usedBy: string): boolean {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 });
  return r.status === 0 ? true : missing(usedBy, `${SYSTEM_PYTHON} module ${module}`, debianPackage);
}

/**
 * A non-loopback IPv4 address of this machine, for tests of what a remote peer may not do.
 * Not a tool `.ci/run` can install: without one (a container with no network) those tests
 * are skipped, with a warning, in CI too.
 */
export function nonLoopbackIPv4(usedBy: string): string | undefined {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  if (address === undefined) console.warn(`${usedBy} skipped: this machine has no non-loopback IPv4 address`);
  return address;
}
