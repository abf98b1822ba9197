/**
 * Catch-up by position. (1) A follower process killed with SIGKILL while confirmed publishes
 * stream in, restarted on the same data dir, catches up and ends byte-identical. (2) A node
 * that led in an abandoned epoch rejoins as a follower of the new leader: the tail it wrote
 * that the new leader never had is cut, its files of the abandoned epoch are replaced or
 * removed, and its copy ends byte-identical.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { differingFiles, newFollower, removeTempDirs, SECRET, shippedFiles, startFollower, startLeader, synced, tempDir, until } from './helpers.js';

afterEach(removeTempDirs);

const CHILD = fileURLToPath(new URL('./follower-child.mjs', import.meta.url));

function spawnFollower(address: { host: string; port: number }, dataDir: string): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, [CHILD, inject('buildDir'), dataDir, address.host, String(address.port), SECRET, 'f1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  return { child, lines };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/** Publish with confirms until `stop()`, to a classic queue and a stream; counts confirms. */
function publisher(url: string) {
  let running = true;
  let confirmed = 0;
  const done = (async () => {
    const conn = await amqp.connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('cu-classic', { durable: true });
    await ch.assertQueue('cu-stream', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 256 * 1024 } });
    for (let i = 0; running; i++) {
      const body = Buffer.alloc(512 + (i % 300), i % 251);
      ch.sendToQueue('cu-classic', body, { persistent: true });
      ch.sendToQueue('cu-stream', body, { persistent: true });
      if (i % 20 === 19) {
        await ch.waitForConfirms();
        confirmed += 40;
      }
    }
    await ch.waitForConfirms();
    await conn.close();
  })();
  return { stop: async () => ((running = false), await done), get confirmed() { return confirmed; } };
}

describe('catch-up', () => {
  it('a follower killed mid-stream and restarted catches up byte-identical', async () => {
    const l = await startLeader({ minIsr: 1, ackDeadlineMs: 300 });
    // as the node lifecycle does: a lagging member leaves the ISR, a caught-up one joins it
    l.leader.on('lagging', () => l.leader.setIsr([]));
    l.leader.on('caught-up', (id: string) => l.leader.setIsr([id]));
    const dir = await tempDir('warren-follower-');
    let f = spawnFollower(l.address, dir);
    try {
      await until(() => f.lines.includes('caught-up'), 'the follower to catch up');
      const pub = publisher(l.amqpUrl);
      await until(() => pub.confirmed >= 2000, 'confirms before the kill', 30_000);
      f.child.kill('SIGKILL');
      await exited(f.child);
      const atKill = pub.confirmed;
      await until(() => pub.confirmed >= atKill + 2000, 'confirms while the follower is down', 30_000);
      f = spawnFollower(l.address, dir);
      await until(() => f.lines.includes('caught-up'), 'the restarted follower to catch up', 30_000);
      await until(() => pub.confirmed >= atKill + 4000, 'confirms after the restart', 30_000);
      await pub.stop();
      await l.broker.stop();
      await synced(l.leader);
      f.child.kill('SIGTERM');
      await until(() => f.lines.includes('stopped'), 'the follower to stop');
      await exited(f.child);
      expect(differingFiles(shippedFiles(l.dataDir), shippedFiles(dir))).toEqual([]);
      expect(f.lines.filter((x) => x.startsWith('error'))).toEqual([]);
    } finally {
      f.child.kill('SIGKILL');
      await l.broker.stop();
      await l.leader.close();
    }
  }, 120_000);

  it('a tail written in an abandoned epoch is cut; files of that epoch are replaced or removed', async () => {
    // epoch 1: A leads, B follows
    const a = await startLeader({ nodeId: 'A', epoch: 1, minIsr: 1 });
    const bDir = await tempDir('warren-b-');
    const b = await startFollower(a.address, bDir, 'B');
    const pubA = publisher(a.amqpUrl);
    await until(() => pubA.confirmed >= 600, 'confirms on A');
    await pubA.stop();
    await synced(a.leader, 'B');
    await b.stop();
    // A goes on alone (nobody will keep this): more in the same segments, and new segments
    const alone = publisher(a.amqpUrl);
    await until(() => alone.confirmed >= 1500, 'confirms on A alone');
    await alone.stop();
    await a.broker.stop();
    await a.leader.close();
    const aAbandoned = shippedFiles(a.dataDir);

    // epoch 2: B leads on its copy, A rejoins as its follower
    const b2 = await startLeader({ nodeId: 'B', epoch: 2, minIsr: 1, dataDir: bDir });
    const pubB = publisher(b2.amqpUrl);
    await until(() => pubB.confirmed >= 300, 'confirms on B');
    await pubB.stop();
    const bBefore = shippedFiles(bDir);
    // what A must lose: files B lacks, and bytes past B's end in files they share
    const kinds = { truncated: 0, replaced: 0, removed: 0 };
    for (const [p, buf] of aAbandoned) {
      const other = bBefore.get(p);
      if (other === undefined) kinds.removed++;
      else if (!other.subarray(0, 32).equals(buf.subarray(0, 32))) kinds.replaced++;
      else if (buf.length > other.length && other.equals(buf.subarray(0, other.length))) kinds.truncated++;
    }
    expect(kinds.truncated, JSON.stringify(kinds)).toBeGreaterThan(0);
    expect(kinds.replaced + kinds.removed, JSON.stringify(kinds)).toBeGreaterThan(0);
    const a2 = await startFollower(b2.address, a.dataDir, 'A');
    await b2.broker.stop();
    await synced(b2.leader, 'A');
    await a2.stop();
    await b2.leader.close();
    expect(differingFiles(shippedFiles(bDir), shippedFiles(a.dataDir))).toEqual([]);
  }, 120_000);

  it('when the live stream outruns the catch-up buffer, another pass follows, and the copy is still byte-identical', async () => {
    // any live frame during a pass overflows the buffer: passes repeat until the publisher stops
    const l = await startLeader({ minIsr: 1, catchUpBufferBytes: 1 });
    const dir = await tempDir('warren-follower-');
    const pub = publisher(l.amqpUrl);
    try {
      await until(() => pub.confirmed >= 3000, 'a backlog');
      // the follower catches up while publishes go on; they stop a little later
      const f = newFollower(l.address, dir);
      const up = new Promise<void>((r) => f.once('caught-up', () => r()));
      await f.start();
      setTimeout(() => void pub.stop(), 1500);
      await up;
      await pub.stop();
      const status = l.leader.followers().find((s) => s.id === 'f1')!;
      expect(status.catchUpPasses).toBeGreaterThan(1);
      await l.broker.stop();
      await synced(l.leader);
      await f.stop();
      expect(differingFiles(shippedFiles(l.dataDir), shippedFiles(dir))).toEqual([]);
    } finally {
      await pub.stop().catch(() => undefined);
      await l.broker.stop();
      await l.leader.close();
    }
  }, 120_000);
});
