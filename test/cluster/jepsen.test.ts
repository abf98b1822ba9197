/**
 * The short form of the Jepsen-style run (bench/jepsen.mjs has the long one): three etcd
 * members, three Warren nodes, AMQP publishers with confirms and consumers with manual acks,
 * an MQTT QoS 1 publisher (PUBACK) and a persistent QoS 1 subscriber (clean false), a STOMP
 * publisher with receipts and a client-individual consumer (over WebSocket),
 * at least five faults (kill -9 of the leader, of a follower, SIGSTOP of the leader past its
 * lease, an etcd member killed and restarted). Every confirmed message must be delivered
 * (lost 0) and nothing delivered that was not sent (unexpected 0).
 */
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { hasEtcd } from '../helpers/etcd-cluster.js';
import { runJepsen } from '../helpers/jepsen/run.js';

const cliPath = join(inject('buildDir'), 'src', 'cli.js');

describe.skipIf(!hasEtcd('test/cluster/jepsen.test.ts'))('Jepsen-style run, short form', () => {
  it('five faults or more: lost 0, unexpected 0', async () => {
    const r = await runJepsen({ cliPath, durationMs: 30_000, faultEveryMs: [3000, 6000], minFaults: 5, leaseTtlMs: 4000, publishers: 2, queues: 2, rate: 40, mqttPublishers: 1, stompPublishers: 1, log: (line) => console.log(`jepsen: ${line}`) });
    const line = `lost=${r.lost} unexpected=${r.unexpected} duplicated=${r.duplicated} recovered=${r.recovered} faults=${r.faults} failover_p50_ms=${r.failoverP50Ms} failover_max_ms=${r.failoverMaxMs}`;
    console.log(`jepsen short form: sent=${r.sent} confirmed=${r.confirmed} ${JSON.stringify(r.confirmedBy)} delivered=${r.delivered} reordered=${r.reordered} ${line}`);
    expect(r.faults).toBeGreaterThanOrEqual(5);
    expect(r.confirmed).toBeGreaterThan(100);
    // every protocol had confirmed messages at stake
    expect(r.confirmedBy['p0']).toBeGreaterThan(0);
    expect(r.confirmedBy['mq0']).toBeGreaterThan(0);
    expect(r.confirmedBy['st0']).toBeGreaterThan(0);
    expect(r.lostIds).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.unexpected).toBe(0);
  }, 240_000);
});
