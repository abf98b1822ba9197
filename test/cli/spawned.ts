/**
 * The real `warren` command as a child process, for the CLI tests: each test gets a fresh
 * temporary directory (the child's cwd and HOME) and a clean environment (the test's own
 * WARREN_* variables must not leak in) with every listener on an OS-chosen loopback port
 * (test/helpers/free-ports-env.ts); every child still running after a test is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { freePortsEnv } from '../helpers/free-ports-env.js';

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** stdout and stderr together, in the order they arrived */
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnedCommands {
  /** this test's temporary directory */
  readonly dir: string;
  run(command: string, args: string[], env?: Record<string, string>): Run;
}

/** Registers the hooks that make and clean each test's directory and children. Call at a test file's top level. */
export function spawnedCommands(dirPrefix: string): SpawnedCommands {
  let freePorts: Record<string, string> = {};
  let dir = '';
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    freePorts = await freePortsEnv();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), dirPrefix));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    run(command, args, env = {}) {
      const child = spawn(command, args, { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...freePorts, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      let err = '';
      let both = '';
      child.stdout!.on('data', (d) => ((out += d), (both += d)));
      child.stderr!.on('data', (d) => ((err += d), (both += d)));
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      return { child, stdout: () => out, stderr: () => err, output: () => both, exit };
    },
  };
}

/**
 * Polls `probe` until it gives a value (not undefined, not false); fails early, with the child's
 * output, if the child exits. 25 s by default: a CLI start on a 2-core machine at load average
 * 40 printed nothing within 15 s (Node's start and the broker's module loading, not the broker).
 */
export async function until<T>(what: string, probe: () => T | undefined | false, r: Run, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined && found !== false) return found;
    if (r.child.exitCode !== null) throw new Error(`exited (${r.child.exitCode}) before ${what}:\n${r.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The JSON log records among `text`'s lines. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
