/**
 * The short CI form of bench/store-crash.mjs: child processes append with durable
 * callbacks and ack from the head, are killed with SIGKILL at random moments, and each
 * recovery is checked against the killed child's ledger (every confirmed, unacked message
 * present, in order, intact, flagged redelivered). The long form: `node bench/store-crash.mjs`.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

function runCrash(extra: string[]): Promise<{ code: number | null; summary: Record<string, unknown>; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(root, 'bench', 'store-crash.mjs'), '--build', inject('buildDir'), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '{}';
      done({ code, summary: JSON.parse(last) as Record<string, unknown>, stderr: err });
    });
  });
}

describe('crash test (SIGKILL, short form)', () => {
  it(
    'recovers every confirmed message through 6 kills',
    async () => {
      // kills 0.2-1 s after each start: a clean-clone run at load 35 killed six children within
      // 0.5 s of their start before any consumer had acked (acked 0)
      const { code, summary, stderr } = await runCrash(['--cycles', '6', '--min-ms', '200', '--max-ms', '1000']);
      expect(summary.failures, stderr).toEqual([]);
      expect(code).toBe(0);
      expect(summary.cycles).toBe(6);
      expect(summary.confirmed).toBeGreaterThan(1000);
      expect(summary.acked).toBeGreaterThan(0);
    },
    60_000,
  );

  it(
    'in write mode as well',
    async () => {
      const { code, summary, stderr } = await runCrash(['--cycles', '3', '--min-ms', '50', '--max-ms', '300', '--durability', 'write']);
      expect(summary.failures, stderr).toEqual([]);
      expect(code).toBe(0);
    },
    60_000,
  );
});
