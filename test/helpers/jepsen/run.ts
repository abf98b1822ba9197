/**
 * A Jepsen-style run against a real three-node cluster on three real etcd members: AMQP
 * publishers with confirms and unique ids, consumers with manual acks, MQTT QoS 1 publishers
 * (PUBACK) and a persistent QoS 1 subscriber, STOMP publishers with receipts and a
 * client-individual consumer, and one fault every
 * `faultEveryMs` — kill -9 of the leader, kill -9 of a follower, SIGSTOP of the leader past
 * its lease then SIGCONT, kill -9 and restart of an etcd member — each undone before the
 * next (the killed node restarted, the paused one exits with code 3 and its supervisor, the
 * harness, starts it again). At the end everything is drained and every id classified
 * (history.ts). Failover time: from the fault on the leader to the first confirm after it.
 *
 * Used by bench/jepsen.mjs (`npm run jepsen -- --minutes N`) and, short, by
 * test/cluster/jepsen.test.ts.
 */
import { EtcdCluster } from '../etcd-cluster.js';
import { until } from '../free-port.js';
import { WarrenCluster } from '../warren-cluster.js';
import { Consumer, Publisher, type Endpoints } from './amqp-clients.js';
import { History, type Verdict } from './history.js';
import { MqttPublisher, MqttSubscriber, type MqttEndpoints } from './mqtt-clients.js';
import { StompConsumer, StompPublisher, type StompEndpoints } from './stomp-clients.js';

export type FaultKind = 'kill-leader' | 'kill-follower' | 'pause-leader' | 'restart-etcd';
const ROTATION: FaultKind[] = ['kill-leader', 'kill-follower', 'pause-leader', 'restart-etcd'];

export interface JepsenOptions {
  cliPath: string;
  durationMs: number;
  /** a fault every min..max ms (uniform) */
  faultEveryMs: [number, number];
  /** keep going past durationMs until this many faults were injected */
  minFaults?: number;
  leaseTtlMs?: number;
  publishers?: number;
  queues?: number;
  /** messages per second per publisher */
  rate?: number;
  /** MQTT QoS 1 publishers (one persistent subscriber receives them all); 0 (the default) for none */
  mqttPublishers?: number;
  /** STOMP publishers with receipts (one client-individual consumer per queue of theirs); 0 (the default) for none */
  stompPublishers?: number;
  log?: (line: string) => void;
}

export interface JepsenResult extends Verdict {
  faults: number;
  faultLog: { kind: FaultKind; at: number; target: string; failoverMs?: number }[];
  failoverP50Ms: number | null;
  failoverMaxMs: number | null;
  durationMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runJepsen(o: JepsenOptions): Promise<JepsenResult> {
  const log = o.log ?? (() => undefined);
  const ttl = o.leaseTtlMs ?? 4000;
  const startedAt = Date.now();
  const etcd = await EtcdCluster.start();
  let cluster: WarrenCluster | null = null;
  const history = new History();
  const publishers: (Publisher | MqttPublisher | StompPublisher)[] = [];
  const consumers: (Consumer | MqttSubscriber | StompConsumer)[] = [];
  try {
    cluster = await WarrenCluster.start({ cliPath: o.cliPath, etcdEndpoints: etcd.endpoints, leaseTtl: `${ttl}ms` });
    const c = cluster;
    const randomLive = () => {
      const live = c.nodes.filter((n) => c.isRunning(n.index));
      return live.length === 0 ? null : live[Math.floor(Math.random() * live.length)]!;
    };
    const endpoints: Endpoints & MqttEndpoints & StompEndpoints = {
      randomStompUrl: () => {
        const n = randomLive();
        return n && `ws://127.0.0.1:${n.ports.stompWs}/ws`;
      },
      randomUrl: () => {
        const n = randomLive();
        return n && c.amqpUrl(n.index);
      },
      randomMqttUrl: () => {
        const n = randomLive();
        return n && `mqtt://127.0.0.1:${n.ports.mqtt}`;
      },
    };
    const whole = (what: string) => c.waitWhole(what, 60_000);
    await whole('start');
    const queues = Array.from({ length: o.queues ?? 2 }, (_, i) => `jepsen-${i}`);
    await declareQueues(c, queues);
    for (const q of queues) consumers.push(new Consumer(endpoints, q, history));
    for (let i = 0; i < (o.publishers ?? 3); i++) publishers.push(new Publisher(endpoints, `p${i}`, queues[i % queues.length]!, history, o.rate ?? 50));
    if ((o.mqttPublishers ?? 0) > 0) {
      const subscriber = new MqttSubscriber(endpoints, 'sub', 'jepsen/mqtt', history);
      await subscriber.subscribeFirst();
      consumers.push(subscriber);
      queues.push(subscriber.queue);
      for (let i = 0; i < o.mqttPublishers!; i++) publishers.push(new MqttPublisher(endpoints, `mq${i}`, 'jepsen/mqtt', history, o.rate ?? 50));
    }
    if ((o.stompPublishers ?? 0) > 0) {
      const stompQueue = 'jepsen-stomp';
      await declareQueues(c, [stompQueue]);
      queues.push(stompQueue);
      consumers.push(new StompConsumer(endpoints, stompQueue, history));
      for (let i = 0; i < o.stompPublishers!; i++) publishers.push(new StompPublisher(endpoints, `st${i}`, stompQueue, history, o.rate ?? 50));
    }
    for (const x of [...consumers, ...publishers]) x.start();

    const faultLog: JepsenResult['faultLog'] = [];
    for (let k = 0; Date.now() - startedAt < o.durationMs || faultLog.length < (o.minFaults ?? 0); k++) {
      const [lo, hi] = o.faultEveryMs;
      await sleep(lo + Math.random() * (hi - lo));
      await whole(`before fault ${k + 1}`);
      const kind = ROTATION[k % ROTATION.length]!;
      const entry = await inject(kind, c, etcd, history, ttl);
      faultLog.push(entry);
      log(`fault ${faultLog.length}: ${kind} ${entry.target}${entry.failoverMs !== undefined ? ` failover ${entry.failoverMs} ms` : ''} (confirmed so far ${history.confirmTimes.length})`);
    }
    await whole('end of faults');
    log('faults over; stopping publishers');
    await Promise.all(publishers.map((p) => p.stop()));
    log('publishers stopped; draining');
    await drain(c, queues, consumers);
    log('drained; stopping consumers');
    await Promise.all(consumers.map((x) => x.stop()));
    const failovers = faultLog.map((f) => f.failoverMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return {
      ...history.verdict(),
      faults: faultLog.length,
      faultLog,
      failoverP50Ms: failovers.length ? failovers[Math.floor((failovers.length - 1) / 2)]! : null,
      failoverMaxMs: failovers.length ? failovers[failovers.length - 1]! : null,
      durationMs: Date.now() - startedAt,
    };
  } finally {
    await Promise.all([...publishers, ...consumers].map((x) => x.stop().catch(() => undefined)));
    await cluster?.close();
    await etcd.close();
  }
}

async function inject(kind: FaultKind, c: WarrenCluster, etcd: EtcdCluster, history: History, ttl: number): Promise<JepsenResult['faultLog'][number]> {
  const leader = (await c.leader())!;
  const at = Date.now();
  switch (kind) {
    case 'kill-leader': {
      await c.kill(leader.node.index);
      const failoverMs = await failover(c, history, leader.epoch, at);
      c.restart(leader.node.index);
      return { kind, at, target: leader.node.id, failoverMs };
    }
    case 'pause-leader': {
      await c.pause(leader.node.index);
      const measured = failover(c, history, leader.epoch, at);
      measured.catch(() => undefined);
      await sleep(Math.max(0, at + ttl + 1000 - Date.now()));
      await c.resume(leader.node.index); // it finds its lease lapsed and exits 3; the harness restarts it
      return { kind, at, target: leader.node.id, failoverMs: await measured };
    }
    case 'kill-follower': {
      const followers = c.nodes.filter((n) => n !== leader.node);
      const victim = followers[Math.floor(Math.random() * followers.length)]!;
      await c.kill(victim.index);
      await sleep(2000);
      c.restart(victim.index);
      return { kind, at, target: victim.id };
    }
    case 'restart-etcd': {
      const i = Math.floor(Math.random() * etcd.members.length);
      await etcd.kill(i);
      await sleep(2000);
      await etcd.restart(i);
      return { kind, at, target: etcd.members[i]!.name };
    }
  }
}

/** A new leader (epoch above `epoch`), then the first confirm after the fault: its failover time. */
async function failover(c: WarrenCluster, history: History, epoch: number, at: number): Promise<number> {
  await c.waitForLeader(60_000, { epoch });
  const first = await until('the first confirm from the new leader', () => history.firstConfirmAfter(at) ?? undefined, 60_000, 50);
  return first - at;
}

/** Declare `queues` on the leader; again until it works (on a loaded machine the leader may change meanwhile). */
async function declareQueues(c: WarrenCluster, queues: string[]): Promise<void> {
  const amqp = (await import('amqplib')).default;
  await until(() => `queues ${queues.join(', ')} declared`, async () => {
    const l = await c.leader();
    if (!l) return false;
    const conn = await amqp.connect(c.amqpUrl(l.node.index), { timeout: 5000 });
    try {
      const ch = await conn.createChannel();
      for (const q of queues) await ch.assertQueue(q, { durable: true });
    } finally {
      await conn.close().catch(() => undefined);
    }
    return true;
  }, 60_000, 500);
}

/** Until every queue is empty on the leader and no delivery came for 3 s (at most 2 minutes). */
async function drain(c: WarrenCluster, queues: string[], consumers: { lastDeliveryAt: number }[]): Promise<void> {
  const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
  const depth: Record<string, unknown> = {};
  await until(() => `the queues drained (last seen: ${JSON.stringify(depth)})`, async () => {
    const l = await c.leader();
    if (!l) return false;
    for (const q of queues) {
      const res = await fetch(`http://127.0.0.1:${l.node.ports.management}/api/queues/%2F/${encodeURIComponent(q)}`, { headers: auth });
      const body = (await res.json()) as { messages?: number; consumers?: number };
      depth[q] = { messages: body.messages, consumers: body.consumers };
    }
    return Object.values(depth).every((d) => (d as { messages?: number }).messages === 0) && consumers.every((x) => Date.now() - x.lastDeliveryAt > 3000);
  }, 90_000, 500);
}
