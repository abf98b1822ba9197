/**
 * Runs one of the durability benches (bench/broker-*.mjs) against the build of this test run
 * (test/global-setup.ts) and returns its JSON summary, the last line of its stdout.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

export interface BenchRun {
  code: number | null;
  summary: Record<string, unknown>;
  stderr: string;
}

export function runBench(script: string, args: string[]): Promise<BenchRun> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(root, 'bench', script), '--build', inject('buildDir'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop() || '{}';
      let summary: Record<string, unknown>;
      try {
        summary = JSON.parse(last) as Record<string, unknown>;
      } catch {
        summary = { unparsed: out };
      }
      done({ code, summary, stderr: err.slice(-4000) });
    });
  });
}
