/**
 * The README's three-node quick start, run as written: the shell block under
 * "Three nodes on one machine" (after its `quick-start` marker) goes to bash with only what
 * must differ on a shared machine changed — every port shifted by one offset to free ones,
 * /tmp/warren-qs to a temp dir, dist/src/cli.js to this run's build. Then what the README
 * promises: `ctl cluster_status` shows a leader and three nodes in sync, a client connected
 * to a standby's port publishes with confirms, kill -9 of the leader, another node leads with
 * every confirmed message.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hasEtcd } from '../helpers/etcd-cluster.js';
import { until } from '../helpers/free-port.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');
const run = promisify(execFile);

/** the block after the marker, as a user would paste it */
function readmeBlock(): string {
  const readme = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const at = readme.indexOf('<!-- quick-start:');
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || !m) throw new Error('README has no quick-start block');
  return m[1]!;
}

/** the literal ports of the block (bases and the etcd peer list) */
const BASES = [2379, 2380, 2389, 2390, 2399, 2400, 5672, 5679, 1883, 15675, 61613, 15674, 9092, 15672];

async function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer().once('error', () => done(false)).listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/** an offset under which every port the block uses (bases + 0, 100, 200 and +10, +20) is free */
async function freeOffset(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const offset = 1000 + Math.floor(Math.random() * 270) * 10; // the highest base, 61613 (+200), stays below 65536
    const ports = [...new Set(BASES.flatMap((b) => [0, 10, 20, 100, 200].map((d) => b + d + offset)))];
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return offset;
  }
  throw new Error('no free port range');
}

describe.skipIf(!hasEtcd('test/cluster/readme-quickstart.test.ts'))('the README\'s three-node quick start', () => {
  let dir: string;
  let shell: ChildProcess;
  let pids: number[] = [];
  let offset = 0;
  const port = (base: number, node = 0) => base + offset + node * 100;
  const status = async () => (await run(process.execPath, [cliPath, 'ctl', 'cluster_status', '--port', String(port(15672))], { timeout: 20_000 })).stdout;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-readme-qs-'));
    offset = await freeOffset();
    // a port added to the block must be added to BASES, or the test would run it unshifted
    expect([...readmeBlock().matchAll(/\b\d{4,5}\b/g)].map((m) => Number(m[0])).filter((n) => !BASES.includes(n))).toEqual([]);
    let script = readmeBlock().replaceAll('/tmp/warren-qs', dir).replaceAll('dist/src/cli.js', cliPath);
    // every literal port, shifted (the block's arithmetic adds the per-node steps to these)
    script = script.replace(/\b(\d{4,5})\b/g, (n) => (BASES.includes(Number(n)) ? String(Number(n) + offset) : n));
    shell = spawn('bash', ['-c', `set -e\n${script}\necho "PIDS $(jobs -p | tr '\\n' ' ')"\nwait`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    shell.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const line = await until(() => `the block's background jobs\n${out}`, () => /PIDS ([\d ]+)/.exec(out)?.[1], 30_000);
    pids = line.trim().split(/\s+/).map(Number);
    expect(pids).toHaveLength(6);
  }, 60_000);

  afterAll(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (shell && shell.exitCode === null) {
      const exited = new Promise((r) => shell.once('exit', r));
      shell.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a leader and three nodes in sync; a client through a standby; kill -9 of the leader loses nothing confirmed', async () => {
    const text = await until(() => 'cluster_status: a leader and n0, n1, n2 in sync', async () => {
      const s = await status().catch(() => '');
      // a leader named too: between leases the status can show the in-sync set with 'Leader: (none)'
      return /Leader: n\d/.test(s) && /In-sync set: n\d, n\d, n\d/.test(s) ? s : undefined;
    }, 120_000, 500);
    const leader = /Leader: n(\d)/.exec(text)![1]!;
    const standby = leader === '0' ? 1 : 0;
    const c = await amqp.connect(`amqp://guest:guest@localhost:${port(5672, standby)}`);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('readme', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (let i = 0; i < 20; i++) ch.sendToQueue('readme', Buffer.from(`m${i}`), { persistent: true });
    await ch.waitForConfirms();
    await c.close();

    // the node processes are the last three jobs, n0 n1 n2
    process.kill(pids[3 + Number(leader)]!, 'SIGKILL');
    const survivor = [0, 1, 2].find((n) => String(n) !== leader)!;
    const got = await until(() => 'the 20 messages from a new leader', async () => {
      try {
        const c2 = await amqp.connect(`amqp://guest:guest@localhost:${port(5672, survivor)}`);
        try {
          const ch2 = await c2.createChannel();
          const bodies: string[] = [];
          for (;;) {
            const m = await ch2.get('readme', { noAck: true });
            if (!m) break;
            bodies.push(m.content.toString());
          }
          return bodies.length > 0 ? bodies : undefined;
        } finally {
          await c2.close().catch(() => undefined);
        }
      } catch {
        return undefined;
      }
    }, 90_000, 500);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  }, 300_000);
});
