/**
 * MQTT QoS 1 across leader changes, on three real etcd members and three Warren processes:
 * an MQTT.js publisher (QoS 1, unique ids, PUBACK = the confirm) and a persistent subscriber
 * (clean false, QoS 1), both reconnecting through any live node, while the leader is killed
 * (kill -9) three times. Every PUBACKed id must reach the subscriber (duplicates allowed:
 * a delivery in flight at the kill comes again, dup set). The clients are the Jepsen run's
 * (test/helpers/jepsen/mqtt-clients.ts).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { EtcdCluster, hasEtcd } from '../helpers/etcd-cluster.js';
import { until } from '../helpers/free-port.js';
import { History } from '../helpers/jepsen/history.js';
import { MqttPublisher, MqttSubscriber } from '../helpers/jepsen/mqtt-clients.js';
import { WarrenCluster } from '../helpers/warren-cluster.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasEtcd('test/cluster/mqtt-failover.test.ts'))('MQTT QoS 1 to a persistent subscriber across leader kills', () => {
  let etcd: EtcdCluster;
  let cluster: WarrenCluster;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    cluster = await WarrenCluster.start({ cliPath, etcdEndpoints: etcd.endpoints, leaseTtl: '4s' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    await etcd?.close();
  }, 30_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(cluster?.outputs());
  });

  const whole = (what: string) => cluster.waitWhole(what);

  it('every PUBACKed id reaches the subscriber after three kill -9 of the leader', async () => {
    await whole('start');
    const endpoints = {
      randomMqttUrl: () => {
        const live = cluster.nodes.filter((n) => cluster.isRunning(n.index));
        const n = live[Math.floor(Math.random() * live.length)];
        return n ? `mqtt://127.0.0.1:${n.ports.mqtt}` : null;
      },
    };
    const history = new History();
    const subscriber = new MqttSubscriber(endpoints, 'failover-sub', 'failover/t', history);
    await subscriber.subscribeFirst();
    const publisher = new MqttPublisher(endpoints, 'mq', 'failover/t', history, 40);
    subscriber.start();
    publisher.start();
    try {
      for (let kill = 1; kill <= 3; kill++) {
        await sleep(3000);
        const leader = (await cluster.leader())!;
        const before = history.confirmTimes.length;
        await cluster.kill(leader.node.index);
        await cluster.waitForLeader(60_000, leader);
        cluster.restart(leader.node.index);
        // confirms from the new leader, and the old one back in the ISR, before the next kill
        await until(() => `confirms after kill ${kill}`, () => history.confirmTimes.length > before + 20, 60_000, 100);
        await whole(`after kill ${kill}`);
      }
      await sleep(2000);
    } finally {
      await publisher.stop();
    }
    const confirmed = history.verdict().confirmed;
    expect(confirmed).toBeGreaterThan(100);
    // Drain: every confirmed id delivered, or nothing new for 20 s (then the verdict names the lost ones).
    let last = -1;
    let quietSince = Date.now();
    await until('the subscriber to receive every confirmed id, or nothing for 20 s', () => {
      const v = history.verdict();
      if (v.lost === 0) return true;
      if (v.delivered !== last) {
        last = v.delivered;
        quietSince = Date.now();
      }
      return Date.now() - quietSince > 20_000;
    }, 120_000, 200);
    await subscriber.stop();
    const v = history.verdict();
    console.log(`mqtt failover: sent=${v.sent} confirmed=${v.confirmed} delivered=${v.delivered} lost=${v.lost} duplicated=${v.duplicated} recovered=${v.recovered} reordered=${v.reordered}`);
    expect(v.lostIds).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.unexpected).toBe(0);
  }, 420_000);
});
