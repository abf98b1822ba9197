/**
 * Builds the project once per test run, for the tests that spawn the compiled CLI
 * (`node <build>/src/cli.js start`), exactly as `npm start` runs it.
 *
 * The output goes to a directory of its own per run, not dist/: engineers (and CI) may run
 * vitest concurrently, and one run rewriting dist/ while another spawns a broker from it
 * would make flaky failures. The directory sits inside node_modules/ so that the compiled
 * files resolve the project's dependencies as dist/ would.
 *
 * Type errors do not fail the build here (tsc still emits): type-checking is its own step
 * (`npm run typecheck`, run by .ci/run), and one engineer's work in progress must not stop
 * everybody's tests. A build that emits nothing usable does fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const root = resolve(import.meta.dirname, '..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** the compiled project of this run: `<buildDir>/src/cli.js` is the CLI */
    buildDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const buildDir = join(root, 'node_modules', '.cache', 'warren-test-build', String(process.pid));
  mkdirSync(buildDir, { recursive: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', buildDir], { cwd: root, stdio: 'pipe' });
  } catch (e) {
    const output = String((e as { stdout?: Buffer }).stdout ?? '');
    process.stderr.write(`[global-setup] tsc reported errors (the build is used anyway):\n${output}\n`);
  }
  if (!existsSync(join(buildDir, 'src', 'cli.js'))) throw new Error(`[global-setup] the build produced no ${buildDir}/src/cli.js`);
  project.provide('buildDir', buildDir);
  return () => rmSync(buildDir, { recursive: true, force: true });
}
