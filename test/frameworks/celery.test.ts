/**
 * Celery against Warren, as a new user runs it: Debian's python3-celery (kombu, py-amqp), a
 * prefork worker with two processes, task_acks_late, prefetch multiplier 4, results over
 * rpc:// (a reply queue per client). A few hundred tasks with results, a group, a retried task
 * and one with a countdown must all come back right. The worker is a child process stopped by
 * its pid. Without python3-celery the test is skipped, except under CI=true, where it fails
 * (test/helpers/require-tool.ts; .ci/run installs the package).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { hasPythonModule, SYSTEM_PYTHON as PYTHON } from '../helpers/require-tool.js';

const HERE = import.meta.dirname;
const TASKS = 300;

const celeryInstalled = hasPythonModule('celery', 'python3-celery', 'test/frameworks/celery.test.ts');

describe.skipIf(!celeryInstalled)('Celery 5 with results over rpc://', () => {
  let broker: TestBroker;
  let worker: ChildProcess | null = null;
  let workerLog = '';
  const env = () => ({ ...process.env, BROKER_URL: `${broker.url}//`, PYTHONPATH: HERE });

  beforeAll(async () => {
    broker = await startBroker();
    worker = spawn(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'worker', '-c', '2', '-P', 'prefork', '-l', 'warning', '--without-gossip', '--without-mingle', '--without-heartbeat', '-n', `warren-test-${process.pid}@%h`], {
      cwd: HERE,
      env: env(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const w = worker;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Celery worker did not start in 45 s: ${workerLog}`)), 45_000);
      w.stderr!.on('data', (b: Buffer) => {
        workerLog = (workerLog + b.toString()).slice(-5000);
        if (workerLog.includes('warren test worker ready.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      w.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the Celery worker exited (${code}) before it was ready: ${workerLog}`));
      });
    });
  }, 60_000);

  afterAll(async () => {
    const w = worker;
    if (w !== null && w.exitCode === null && w.signalCode === null) {
      // warm shutdown (SIGTERM) stops its pool processes too; SIGKILL if it hangs
      const exited = new Promise((resolve) => w.once('exit', resolve));
      w.kill('SIGTERM');
      const timer = setTimeout(() => w.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await broker?.stop();
  }, 30_000);

  it(`runs ${TASKS} tasks and brings every result back, with a group, a retry and countdowns`, async () => {
    const client = spawnAsync(PYTHON, [join(HERE, 'celery_roundtrip.py'), String(TASKS)], env());
    const { code, stdout, stderr } = await client;
    expect(code, `client failed: ${stderr}\nworker: ${workerLog}`).toBe(0);
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(r.sequential).toEqual([1, 2, 3, 4, 5]);
    expect(r.sum).toBe(TASKS * (TASKS - 1));
    expect(r.group).toBe((50 * 49) / 2);
    expect(r.countdown).toBe(42);
    expect(r.retries).toBe(2);
    // a task sent after 12 countdown tasks (5 s) runs at once, as on RabbitMQ, not after them
    expect(r.behind_countdowns).toBe(2);
    expect(r.behind_countdowns_s).toBeLessThan(2.5);
    expect(r.held).toBe((12 * 11) / 2);
    // nothing is left waiting in Celery's queue, and the worker still consumes from it
    const conn = await amqp.connect(broker.url);
    try {
      const ch = await conn.createChannel();
      expect(await ch.checkQueue('celery')).toMatchObject({ messageCount: 0, consumerCount: 1 });
    } finally {
      await conn.close();
    }
  }, 60_000);
});

function spawnAsync(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-5000)));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
