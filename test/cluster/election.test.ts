/**
 * Clustering on real etcd (three members) with three real Warren processes: one leader is
 * elected through etcd, the followers catch up and join the ISR under its epoch, a standby
 * forwards AMQP and HTTP to the leader with the client's address (PROXY header), kill -9 of
 * the leader makes another node lead under a higher epoch with every confirmed message, and
 * a leader paused past its lease exits without confirming anything.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { EtcdCluster, hasEtcd } from '../helpers/etcd-cluster.js';
import { until } from '../helpers/free-port.js';
import { WarrenCluster } from '../helpers/warren-cluster.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');

describe.skipIf(!hasEtcd('test/cluster/election.test.ts'))('a three-node cluster on etcd', () => {
  let etcd: EtcdCluster;
  let cluster: WarrenCluster;
  let client: Etcd3;
  const hookDir = mkdtempSync(join(tmpdir(), 'warren-hooks-'));
  const hookLog = join(hookDir, 'hooks.log');

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    client = new Etcd3({ hosts: etcd.endpoints });
    const hook = `echo "$WARREN_CLUSTER_ROLE $WARREN_CLUSTER_NODE_ID $WARREN_CLUSTER_EPOCH" >> ${hookLog}`;
    cluster = await WarrenCluster.start({
      // 6 s: short enough for quick failovers, long enough that a heavily loaded machine (the
      // whole suite on 2 cores) does not make healthy nodes miss keep-alives and step down.
      cliPath, etcdEndpoints: etcd.endpoints, leaseTtl: '6s',
      env: { WARREN_CLUSTER_ON_LEADER: hook, WARREN_CLUSTER_ON_FOLLOWER: hook },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    client?.close();
    await etcd?.close();
    rmSync(hookDir, { recursive: true, force: true });
  }, 30_000);

  afterEach((ctx) => {
    // The nodes' own logs, for a failure on a loaded machine.
    if (ctx.task.result?.state === 'fail') console.log(cluster?.outputs());
  });

  const isr = async () => JSON.parse((await client.get(`/warren/${cluster.name}/groups/main/isr`).string()) ?? 'null') as { epoch: number; members: string[] } | null;

  it('elects exactly one leader, writes the ISR under its epoch, registers every node', async () => {
    await cluster.waitForLeader();
    const nodes = await until(() => `three registrations, one of them the leader\n${cluster.outputs()}`, async () => {
      const all = await client.getAll().prefix(`/warren/${cluster.name}/nodes/`).strings();
      const leaders = Object.values(all).filter((v) => (JSON.parse(v) as { role: string }).role === 'leader');
      return Object.keys(all).length === 3 && leaders.length === 1 ? all : undefined;
    }, 30_000);
    const roles = Object.values(nodes).map((v) => (JSON.parse(v) as { role: string }).role).sort();
    expect(roles).toEqual(['leader', 'standby', 'standby']);
    // The followers catch up (replication) and the leader adds them to the ISR, under its epoch.
    // Read both after the fact: on a loaded machine a node may have stepped down meanwhile.
    const record = await until(() => `all three nodes in the ISR\n${cluster.outputs()}`, async () => {
      const r = await isr();
      const l = await cluster.leader();
      return r?.members.length === 3 && l !== null && r.epoch === l.epoch ? r : undefined;
    }, 45_000);
    expect(record.members).toEqual(['n0', 'n1', 'n2']);
  }, 90_000);

  it('a standby forwards AMQP and HTTP to the leader, with the client\'s address', async () => {
    const { node: leader } = await cluster.waitForLeader();
    const standby = cluster.nodes.find((n) => n !== leader)!;
    const viaStandby = await amqp.connect(cluster.amqpUrl(standby.index));
    const ch = await viaStandby.createConfirmChannel();
    const q = `proxied-${Date.now()}`;
    await ch.assertQueue(q, { durable: true });
    ch.sendToQueue(q, Buffer.from('through a standby'), { persistent: true });
    await ch.waitForConfirms();
    const direct = await amqp.connect(cluster.amqpUrl(leader.index));
    const dch = await direct.createChannel();
    const got = await dch.get(q, { noAck: true });
    expect(got && got.content.toString()).toBe('through a standby');

    // The leader sees the client's own port (PROXY header), not the standby's outgoing one.
    const localPort = (viaStandby.connection as unknown as { stream: { localPort: number } }).stream.localPort;
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const conns = await until('the proxied connection listed by the leader', async () => {
      const res = await fetch(`http://127.0.0.1:${standby.ports.management}/api/connections`, { headers: auth });
      const list = (await res.json()) as { peer_port: number; peer_host: string }[];
      return list.some((c) => c.peer_port === localPort) ? list : undefined;
    });
    expect(conns.find((c) => c.peer_port === localPort)?.peer_host).toBe('127.0.0.1');
    await viaStandby.close();
    await direct.close();
  }, 30_000);

  it('operators: /api/cluster and warren ctl cluster_status through any node, /metrics gauges, the leader hook', async () => {
    const { node: leader, epoch } = await cluster.waitForLeader();
    const standby = cluster.nodes.find((n) => n !== leader)!;
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const body = (await (await fetch(`http://127.0.0.1:${standby.ports.management}/api/cluster`, { headers: auth })).json()) as {
      node: string; role: string; leader: string; epoch: number; isr: string[]; nodes: { id: string; role: string }[]; followers: unknown[]; last_failover: { to: string; epoch: number } | null;
    };
    expect(body).toMatchObject({ node: leader.id, role: 'leader', leader: leader.id, epoch });
    expect(body.isr).toContain(leader.id);
    expect(body.followers).toHaveLength(2);
    for (const f of body.followers as { lag_bytes: number; lag_seconds: number; connected: boolean }[]) {
      expect(f.connected).toBe(true);
      expect(typeof f.lag_bytes).toBe('number');
      expect(typeof f.lag_seconds).toBe('number');
    }
    expect(body.nodes.map((n) => n.id).sort()).toEqual(['n0', 'n1', 'n2']);
    expect(body.last_failover).toMatchObject({ to: leader.id, epoch });
    const metrics = await (await fetch(`http://127.0.0.1:${standby.ports.management}/metrics`, { headers: auth })).text();
    expect(metrics).toContain(`warren_cluster_epoch ${epoch}`);
    expect(metrics).toContain(`warren_cluster_leader{node="${leader.id}"} 1`);
    expect(metrics).toContain('warren_cluster_nodes 3');
    const { stdout } = await promisify(execFile)(process.execPath, [cliPath, 'ctl', 'cluster_status', '--host', '127.0.0.1', '--port', String(standby.ports.management)]);
    expect(stdout).toContain(`Leader: ${leader.id}  epoch ${epoch}`);
    expect(stdout).toMatch(new RegExp(`${standby.id}  standby  127\\.0\\.0\\.1`));
    await until('the hooks ran', () => {
      const lines = readFileSync(hookLog, 'utf8').trim().split('\n');
      return lines.includes(`leader ${leader.id} ${epoch}`) && lines.filter((l) => l.startsWith('follower ')).length >= 2 ? lines : undefined;
    }, 10_000);
  }, 30_000);

  it('kill -9 of the leader: another node leads under a higher epoch; a message confirmed before is consumable through any live node', async () => {
    const before = await cluster.waitForLeader();
    await until(() => `all three nodes in the ISR\n${cluster.outputs()}`, async () => (await isr())?.members.length === 3, 30_000);
    const q = `survives-${Date.now()}`;
    const c = await amqp.connect(cluster.amqpUrl(before.node.index));
    const ch = await c.createConfirmChannel();
    await ch.assertQueue(q, { durable: true });
    for (let i = 0; i < 20; i++) ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true });
    await ch.waitForConfirms();
    c.on('error', () => undefined);
    const killedAt = Date.now();
    await cluster.kill(before.node.index);
    const after = await cluster.waitForLeader(30_000, { epoch: before.epoch });
    const failoverMs = Date.now() - killedAt;
    expect(after.node).not.toBe(before.node);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    expect((await isr())?.epoch).toBe(after.epoch);
    expect(failoverMs).toBeLessThan(6000 + 10_000); // lease TTL + election, with room for a loaded machine
    // Through the other live node's port (a standby now forwarding to the new leader).
    const other = cluster.nodes.find((n) => n !== before.node && n !== after.node)!;
    const c2 = await until('a connection through the other node', () => amqp.connect(cluster.amqpUrl(other.index)), 15_000, 250);
    const ch2 = await c2.createChannel();
    const got: string[] = [];
    for (;;) {
      const m = await ch2.get(q, { noAck: true });
      if (!m) break;
      got.push(m.content.toString());
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    await c2.close();
    cluster.restart(before.node.index);
    await until(`${before.node.id} back in the ISR`, async () => (await isr())?.members.includes(before.node.id), 30_000);
  }, 90_000);

  it('fencing: a leader paused past its lease never confirms after it resumes; it exits with code 3', async () => {
    const { node: leader, epoch } = await cluster.waitForLeader();
    const conn = await amqp.connect(cluster.amqpUrl(leader.index));
    conn.on('error', () => undefined);
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    await ch.assertQueue('fenced', { durable: true });
    const exitsBefore = leader.exits.length;
    await cluster.pause(leader.index);
    await until('the paused leader\'s key expired', async () => (await cluster.leader())?.epoch !== epoch, 20_000);
    // Sent while the leader is stopped: it reaches its socket buffer, and is read on SIGCONT.
    let confirmed = false;
    ch.sendToQueue('fenced', Buffer.from('after the lease'), { persistent: true }, (err) => {
      if (!err) confirmed = true; // a nack (err) is allowed; a confirm is not
    });
    await cluster.resume(leader.index);
    await until('the resumed leader exits', () => leader.exits.length > exitsBefore, 15_000);
    expect(leader.exits.at(-1)).toMatchObject({ code: 3 });
    await new Promise((r) => setTimeout(r, 300));
    expect(confirmed).toBe(false);
    await conn.close().catch(() => undefined);
    // The supervisor (the harness) starts it again; it is in the ISR, so it leads again.
    const again = await cluster.waitForLeader(30_000, { epoch });
    expect(again.epoch).toBeGreaterThan(epoch);
  }, 60_000);

  it('etcd majority lost: the leader stops (exit 3) within about its lease; with etcd back a node leads again, with the data', async () => {
    const { node: leader, epoch } = await cluster.waitForLeader();
    const c = await amqp.connect(cluster.amqpUrl(leader.index));
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('through-etcd-loss', { durable: true });
    ch.sendToQueue('through-etcd-loss', Buffer.from('kept'), { persistent: true });
    await ch.waitForConfirms();
    c.on('error', () => undefined);
    const exitsBefore = leader.exits.length;
    const lostAt = Date.now();
    await etcd.kill(1);
    await etcd.kill(2);
    await until(() => `the leader exits\n${cluster.outputs()}`, () => leader.exits.length > exitsBefore, 20_000);
    expect(leader.exits[exitsBefore]).toMatchObject({ code: 3 });
    expect(Date.now() - lostAt).toBeLessThan(6000 + 6000);
    await etcd.restart(1, false);
    await etcd.restart(2);
    const again = await cluster.waitForLeader(60_000, { epoch });
    const c2 = await amqp.connect(cluster.amqpUrl(again.node.index));
    const ch2 = await c2.createChannel();
    const m = await ch2.get('through-etcd-loss', { noAck: true });
    expect(m && m.content.toString()).toBe('kept');
    await c2.close();
  }, 120_000);
});
