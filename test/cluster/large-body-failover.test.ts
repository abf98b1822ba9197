/**
 * A large streamed body in a cluster (three etcd members, three Warren processes): with
 * `large_message_threshold` at 64 KiB and 1 MiB journal segments, an 8 MiB AMQP body is written
 * as 32 BODY_PART records spread over nine or more segments, most of them in rounds that hold
 * only parts (no fdatasync of their own; the MSG naming them comes last). Replication ships
 * those rounds to the followers like any other. Once the publisher has its confirm (every
 * in-sync replica synced the MSG's round), the leader is killed (kill -9): the new leader
 * delivers the body intact, and the ordinary message published after it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { EtcdCluster, hasEtcd } from '../helpers/etcd-cluster.js';
import { until } from '../helpers/free-port.js';
import { WarrenCluster } from '../helpers/warren-cluster.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');
const MiB = 1024 * 1024;
const BODY = 8 * MiB;
const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

/** a node's journal segment files (every vhost): how many, and their bytes */
function journal(dataDir: string): { files: number; bytes: number } {
  const j = { files: 0, bytes: 0 };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.wj')) {
        j.files++;
        j.bytes += statSync(join(dir, e.name)).size;
      }
    }
  };
  walk(dataDir);
  return j;
}

describe.skipIf(!hasEtcd('test/cluster/large-body-failover.test.ts'))('a streamed body across segments, replicated, then the leader killed', () => {
  let etcd: EtcdCluster;
  let cluster: WarrenCluster;
  const connections: ChannelModel[] = [];

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    cluster = await WarrenCluster.start({
      cliPath,
      etcdEndpoints: etcd.endpoints,
      leaseTtl: '4s',
      env: { WARREN_LARGE_MESSAGE_THRESHOLD: String(64 * 1024), WARREN_STORE_SEGMENT_SIZE: String(MiB) },
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of connections) await c.close().catch(() => undefined);
    await cluster?.close();
    await etcd?.close();
  }, 30_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(cluster?.outputs());
  });

  it('the confirmed body survives kill -9 of the leader, intact on the new one', async () => {
    await cluster.waitWhole('start');
    const leader = (await cluster.leader())!;
    const conn = await amqp.connect(cluster.amqpUrl(leader.node.index));
    conn.on('error', () => undefined); // the kill resets it
    connections.push(conn);
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    await ch.assertQueue('big', { durable: true });
    const big = randomBytes(BODY);
    const followers = cluster.nodes.filter((n) => n !== leader.node);
    const before = followers.map((n) => journal(n.dataDir));
    ch.sendToQueue('big', big, { persistent: true });
    ch.sendToQueue('big', Buffer.from('after'), { persistent: true });
    await ch.waitForConfirms();
    // every follower has the parts: at least the body's bytes more, in new 1 MiB segments (a
    // body held whole would be one record in one segment)
    for (const [i, n] of followers.entries()) {
      const now = journal(n.dataDir);
      expect(now.bytes - before[i]!.bytes).toBeGreaterThanOrEqual(BODY);
      expect(now.files - before[i]!.files).toBeGreaterThanOrEqual(BODY / MiB);
    }
    await cluster.kill(leader.node.index);
    const next = await cluster.waitForLeader(60_000, leader);
    const conn2 = await amqp.connect(cluster.amqpUrl(next.node.index));
    connections.push(conn2);
    const c2 = await conn2.createChannel();
    const got: Buffer[] = [];
    await c2.consume('big', (m) => m && got.push(m.content), { noAck: true });
    await until('both messages from the new leader', () => got.length >= 2, 30_000, 50);
    expect(got[0]!.length).toBe(BODY);
    expect(sha(got[0]!)).toBe(sha(big));
    expect(got[1]!.toString()).toBe('after');
    expect(got.length).toBe(2);
  }, 180_000);
});
