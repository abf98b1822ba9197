/**
 * The lifeline thread (src/cluster/lifeline.ts) in a child process on a real etcd: it keeps
 * the lease alive from its worker thread for several TTLs while the main loop lives, and
 * kills the process when the main event loop is stuck past the watchdog limit (a stuck
 * leader must not keep its lease).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EtcdCluster, hasEtcd } from '../helpers/etcd-cluster.js';

const buildDir = inject('buildDir');
const root = resolve(import.meta.dirname, '..', '..');

function runChild(endpoints: string[], body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const script = `
    const { Etcd3 } = await import('etcd3');
    const { Lifeline } = await import(${JSON.stringify(join(buildDir, 'src', 'cluster', 'lifeline.js'))});
    const endpoints = ${JSON.stringify(endpoints)};
    const etcd = new Etcd3({ hosts: endpoints });
    const lifeline = new Lifeline({ etcd, endpoints, ttlMs: 3100, watchdogMs: 1500, onLeaseLost: () => console.log('lost') });
    await lifeline.start();
    console.log('started');
    ${body}
  `;
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code, signal) => resolvePromise({ code, signal, out }));
  });
}

describe.skipIf(!hasEtcd('test/cluster/lifeline.test.ts'))('the lifeline thread', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await EtcdCluster.start({ size: 1 });
  }, 30_000);
  afterAll(async () => {
    await etcd?.close();
  });

  it('keeps the lease valid for three TTLs while the main loop lives', async () => {
    const r = await runChild(etcd.endpoints, `
      setTimeout(async () => {
        // 3.1 s: a TTL whose third is not a whole number of ms (the keep-alive timeout must be)
        console.log('valid after 9 s: ' + lifeline.leaseValid());
        await lifeline.stop(true);
        etcd.close();
      }, 9500);
    `);
    expect(r.out).toContain('started');
    expect(r.out).toContain('valid after 9 s: true');
    expect(r.out).not.toContain('lost');
    expect(r.code).toBe(0);
  }, 30_000);

  it('kills the process when the event loop is stuck past the watchdog limit', async () => {
    const r = await runChild(etcd.endpoints, `
      setTimeout(() => {
        const end = Date.now() + 6000;
        while (Date.now() < end) {} // a stuck event loop
        console.log('survived');
        process.exit(0);
      }, 300);
    `);
    expect(r.out).toContain('started');
    expect(r.out).not.toContain('survived');
    expect(r.signal).toBe('SIGKILL');
    expect(r.out).toContain('cluster watchdog: event loop stuck');
  }, 30_000);
});
