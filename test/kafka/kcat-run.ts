/** Running Debian's kcat (librdkafka) in tests: its path, whether it is there (failing in CI when not), one run. */
import { spawn } from 'node:child_process';
import { hasExecutable } from '../helpers/require-tool.js';

export const KCAT = '/usr/bin/kcat';

/** whether kcat is installed; with CI=true a missing kcat fails the calling test file instead */
export function kcatAvailable(testFile: string): boolean {
  return hasExecutable(KCAT, 'kcat', testFile);
}

export function kcat(args: string[], input: string | Buffer = '', timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input);
  });
}
