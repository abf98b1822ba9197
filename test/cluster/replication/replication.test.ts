/**
 * Replication end to end, without etcd (roles are explicit): a leader Broker with a
 * ReplicationLeader, a ReplicationFollower on its own data dir, a workload of confirmed AMQP
 * publishes to durable classic, quorum and stream queues plus declares, users and policies
 * (management API), an MQTT retained message and a persistent MQTT session. Then the
 * follower's data dir, opened as a Broker, has every confirmed message, definition, retained
 * message and session, and its shipped log files are byte-identical to the leader's.
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker.js';
import { brokerOptions, differingFiles, removeTempDirs, shippedFiles, startFollower, startLeader, synced, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const N = 300;

async function publishAll(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('classic-q', { durable: true });
  await ch.assertQueue('quorum-q', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.assertQueue('stream-q', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await ch.assertExchange('repl-x', 'topic', { durable: true });
  await ch.bindQueue('classic-q', 'repl-x', 'a.#');
  for (let i = 0; i < N; i++) {
    const body = Buffer.from(`m-${i}-${'x'.repeat(i % 97)}`);
    ch.publish('repl-x', 'a.b', body, { persistent: true, messageId: `c${i}` });
    ch.sendToQueue('quorum-q', body, { persistent: true, messageId: `q${i}` });
    ch.sendToQueue('stream-q', body, { persistent: true, messageId: `s${i}` });
    if (i % 50 === 49) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
}

async function management(broker: Broker, method: string, path: string, body?: unknown): Promise<Response> {
  const a = broker.address('management');
  return fetch(`http://${a.host}:${a.port}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function drain(url: string, queue: string, stream = false): Promise<string[]> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(1000);
  const ids: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${queue}: ${ids.length} of ${N}`)), 15_000);
    void ch.consume(
      queue,
      (m) => {
        if (!m) return;
        ids.push(String(m.properties.messageId));
        ch.ack(m);
        if (ids.length === N) {
          clearTimeout(timer);
          resolve();
        }
      },
      stream ? { arguments: { 'x-stream-offset': 'first' } } : {},
    );
  });
  await conn.close();
  return ids;
}

const mqttUrl = (b: Broker) => {
  const a = b.address('mqtt');
  return `mqtt://${a.host}:${a.port}`;
};

/** A retained message, and a persistent session (subscribed, then gone), on the leader. */
async function mqttState(url: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { username: 'guest', password: 'guest', clientId: 'keeper', clean: false, protocolVersion: 4 });
  await c.subscribeAsync('kept/#', { qos: 1 });
  await c.publishAsync('kept/one', 'retained-body', { qos: 1, retain: true });
  await c.endAsync();
}

async function mqttCheck(url: string): Promise<{ sessionPresent: boolean; retained: string }> {
  const c = mqtt.connect(url, { username: 'guest', password: 'guest', clientId: 'keeper', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  const { sessionPresent } = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  const other = await mqtt.connectAsync(url, { username: 'guest', password: 'guest', clientId: 'reader', protocolVersion: 4 });
  const retained = new Promise<string>((resolve) => {
    other.on('message', (_t, payload) => resolve(payload.toString()));
    setTimeout(() => resolve('(no retained message)'), 5000);
  });
  await other.subscribeAsync('kept/#', { qos: 1 });
  const body = await retained;
  await other.endAsync();
  await c.endAsync();
  return { sessionPresent, retained: body };
}

describe('replication', () => {
  it('a follower holds every confirmed message and definition; its logs are byte-identical', async () => {
    // retained messages in mqtt/retained.db (the default keeps them in a stream, shipped as a log)
    const mgmt = { management: { port: 0, host: '127.0.0.1' }, mqtt: { port: 0, host: '127.0.0.1', retained_message_store: 'sqlite' } };
    const l = await startLeader({ minIsr: 2 }, mgmt);
    const followerDir = await tempDir('warren-follower-');
    const f = await startFollower(l.address, followerDir);
    l.leader.setIsr(['f1']);
    expect((await management(l.broker, 'PUT', '/api/users/alice', { password: 'secret1', tags: 'management' })).status).toBeLessThan(300);
    expect((await management(l.broker, 'PUT', '/api/vhosts/v2', {})).status).toBeLessThan(300);
    expect((await management(l.broker, 'PUT', '/api/permissions/v2/alice', { configure: '.*', write: '.*', read: '.*' })).status).toBeLessThan(300);
    expect((await management(l.broker, 'PUT', '/api/policies/%2F/len', { pattern: '^classic', definition: { 'max-length': 100000 }, 'apply-to': 'queues' })).status).toBeLessThan(300);
    await publishAll(l.amqpUrl);
    await mqttState(mqttUrl(l.broker));

    await l.broker.stop();
    await synced(l.leader);
    await f.stop();
    await l.leader.close();
    expect(differingFiles(shippedFiles(l.dataDir), shippedFiles(followerDir))).toEqual([]);
    expect(shippedFiles(followerDir).size).toBeGreaterThan(2);

    const promoted = new Broker(brokerOptions(followerDir, mgmt));
    await promoted.start();
    try {
      const a = promoted.address('amqp');
      const url = `amqp://guest:guest@${a.host}:${a.port}`;
      const expected = (p: string) => Array.from({ length: N }, (_, i) => `${p}${i}`);
      expect(await drain(url, 'classic-q')).toEqual(expected('c'));
      expect(await drain(url, 'quorum-q')).toEqual(expected('q'));
      expect(await drain(url, 'stream-q', true)).toEqual(expected('s'));
      const users = (await (await management(promoted, 'GET', '/api/users')).json()) as { name: string }[];
      expect(users.map((u) => u.name).sort()).toEqual(['alice', 'guest']);
      const policies = (await (await management(promoted, 'GET', '/api/policies')).json()) as { name: string }[];
      expect(policies.map((p) => p.name)).toEqual(['len']);
      const perms = (await (await management(promoted, 'GET', '/api/permissions')).json()) as { user: string; vhost: string }[];
      expect(perms.some((p) => p.user === 'alice' && p.vhost === 'v2')).toBe(true);
      const bindings = (await (await management(promoted, 'GET', '/api/bindings/%2F')).json()) as { source: string; destination: string }[];
      expect(bindings.some((b) => b.source === 'repl-x' && b.destination === 'classic-q')).toBe(true);
      expect(await mqttCheck(mqttUrl(promoted))).toEqual({ sessionPresent: true, retained: 'retained-body' });
    } finally {
      await promoted.stop();
    }
  }, 60_000);
});
