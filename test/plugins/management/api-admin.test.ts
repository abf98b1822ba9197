/**
 * Administration through the API: vhosts, users, permissions, topic permissions, policies
 * (applied live to running queues), vhost limits, health checks; and that what the API
 * changes survives a restart.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/auth/passwords.js';
import { eventually, startManaged, type ManagedBroker } from './helpers.js';

let m: ManagedBroker;
beforeAll(async () => {
  m = await startManaged();
});
afterAll(async () => {
  await m?.stop();
});

describe('vhosts', () => {
  it('create with metadata (creator gets full permissions), update, read, list, delete', async () => {
    expect((await m.api('PUT', '/api/vhosts/v1', { description: 'first', tags: 'a,b', default_queue_type: 'classic' })).status).toBe(201);
    expect((await m.api('GET', '/api/vhosts/v1')).body).toMatchObject({ name: 'v1', description: 'first', tags: ['a', 'b'], default_queue_type: 'classic', messages: 0, cluster_state: expect.any(Object) });
    expect((await m.api('GET', '/api/permissions/v1/guest')).body).toEqual({ user: 'guest', vhost: 'v1', configure: '.*', write: '.*', read: '.*' });
    expect((await m.api('PUT', '/api/vhosts/v1', { description: 'renamed' })).status).toBe(204);
    expect((await m.api('GET', '/api/vhosts/v1')).body).toMatchObject({ description: 'renamed', tags: ['a', 'b'] });
    expect((await m.api('GET', '/api/vhosts')).body.map((v: { name: string }) => v.name)).toEqual(['/', 'v1']);
    const c = await amqp.connect(`${m.amqpUrl}/v1`);
    const closed = new Promise<Error>((resolve) => c.on('close', resolve));
    expect((await m.api('DELETE', '/api/vhosts/v1')).status).toBe(204);
    expect((await closed).message).toMatch(/vhost 'v1' is deleted/);
    expect((await m.api('GET', '/api/vhosts/v1')).status).toBe(404);
    expect((await m.api('DELETE', '/api/vhosts/v1')).status).toBe(404);
  });

  it('vhost limits: set, read, lift; the core enforces them', async () => {
    await m.api('PUT', '/api/vhosts/limited', {});
    expect((await m.api('PUT', '/api/vhost-limits/limited/max-queues', { value: 1 })).status).toBe(204);
    expect((await m.api('GET', '/api/vhost-limits/limited')).body).toEqual([{ vhost: 'limited', value: { 'max-queues': 1 } }]);
    expect((await m.api('PUT', '/api/queues/limited/one', {})).status).toBe(201);
    const refused = await m.api('PUT', '/api/queues/limited/two', {});
    expect(refused.status).toBe(400);
    expect(refused.body.reason).toMatch(/queue limit in vhost 'limited' \(1\) is reached/);
    expect((await m.api('PUT', '/api/vhost-limits/limited/max-bananas', { value: 1 })).status).toBe(400);
    expect((await m.api('DELETE', '/api/vhost-limits/limited/max-queues')).status).toBe(204);
    expect((await m.api('PUT', '/api/queues/limited/two', {})).status).toBe(201);
    expect((await m.api('GET', '/api/vhost-limits')).body).toEqual([]);
  });
});

describe('users and permissions', () => {
  it('create with a password or a RabbitMQ hash, read without the password, change tags, delete', async () => {
    expect((await m.api('PUT', '/api/users/alice', { password: 's3cret', tags: 'monitoring,management' })).status).toBe(201);
    const alice = (await m.api('GET', '/api/users/alice')).body;
    expect(alice).toEqual({ name: 'alice', password_hash: expect.any(String), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['monitoring', 'management'], limits: {} });
    expect((await m.api('GET', '/api/whoami', undefined, 'alice:s3cret')).body).toEqual({ name: 'alice', tags: ['monitoring', 'management'] });
    expect((await m.api('PUT', '/api/users/alice', { tags: ['administrator'] })).status).toBe(204);
    expect((await m.api('GET', '/api/whoami', undefined, 'alice:s3cret')).body.tags).toEqual(['administrator']); // password kept
    const hash = hashPassword('from-hash', Buffer.from('salt'), 'sha512');
    await m.api('PUT', '/api/users/bob', { password_hash: hash, hashing_algorithm: 'rabbit_password_hashing_sha512', tags: 'management' });
    expect((await m.api('GET', '/api/users/bob')).body.hashing_algorithm).toBe('rabbit_password_hashing_sha512');
    expect((await m.api('GET', '/api/whoami', undefined, 'bob:from-hash')).status).toBe(200);
    expect((await m.api('GET', '/api/users/without-permissions')).body.map((u: { name: string }) => u.name).sort()).toEqual(['alice', 'bob']);
    expect((await m.api('POST', '/api/users/bulk-delete', { users: ['bob', 'nobody'] })).status).toBe(204);
    expect((await m.api('GET', '/api/users/bob')).status).toBe(404);
    expect((await m.api('DELETE', '/api/users/alice')).status).toBe(204);
    expect((await m.api('DELETE', '/api/users/alice')).status).toBe(404);
    expect((await m.api('GET', '/api/whoami', undefined, 'alice:s3cret')).status).toBe(401);
  });

  it('permissions: set (validated regexes), read per user and per vhost, clear; the core applies them', async () => {
    await m.api('PUT', '/api/users/carol', { password: 'pw', tags: '' });
    expect((await m.api('PUT', '/api/permissions/%2F/carol', { configure: '^carol\\.', write: '.*', read: '(' })).body.reason).toMatch(/read is not a valid regular expression/);
    expect((await m.api('PUT', '/api/permissions/%2F/carol', { configure: '^carol\\.', write: '.*' })).status).toBe(400);
    expect((await m.api('PUT', '/api/permissions/%2F/carol', { configure: '^carol\\.', write: '.*', read: '.*' })).status).toBe(201);
    expect((await m.api('PUT', '/api/permissions/%2F/carol', { configure: '^carol\\.', write: '.*', read: '.*' })).status).toBe(204);
    expect((await m.api('PUT', '/api/permissions/nowhere/carol', { configure: '', write: '', read: '' })).status).toBe(404);
    expect((await m.api('PUT', '/api/permissions/%2F/nobody', { configure: '', write: '', read: '' })).status).toBe(404);
    expect((await m.api('GET', '/api/users/carol/permissions')).body).toEqual([{ user: 'carol', vhost: '/', configure: '^carol\\.', write: '.*', read: '.*' }]);
    expect((await m.api('GET', '/api/vhosts/%2F/permissions')).body.map((p: { user: string }) => p.user).sort()).toEqual(['carol', 'guest']);
    const { host, port } = m.broker.address('amqp');
    const c = await amqp.connect(`amqp://carol:pw@${host}:${port}`);
    const ch = await c.createChannel();
    await ch.assertQueue('carol.q');
    await c.close();
    expect((await m.api('DELETE', '/api/permissions/%2F/carol')).status).toBe(204);
    expect((await m.api('DELETE', '/api/permissions/%2F/carol')).status).toBe(404);
    await expect(amqp.connect(`amqp://carol:pw@${host}:${port}`)).rejects.toThrow();
  });

  it('topic permissions: set, list, clear; the core checks routing keys on topic exchanges', async () => {
    await m.api('PUT', '/api/users/dave', { password: 'pw', tags: '' });
    await m.api('PUT', '/api/permissions/%2F/dave', { configure: '.*', write: '.*', read: '.*' });
    expect((await m.api('PUT', '/api/topic-permissions/%2F/dave', { exchange: 'amq.topic', write: '^devices\\.', read: '.*' })).status).toBe(201);
    expect((await m.api('GET', '/api/topic-permissions/%2F/dave')).body).toEqual([{ user: 'dave', vhost: '/', exchange: 'amq.topic', write: '^devices\\.', read: '.*' }]);
    expect((await m.api('GET', '/api/topic-permissions')).body).toHaveLength(1);
    const { host, port } = m.broker.address('amqp');
    const c = await amqp.connect(`amqp://dave:pw@${host}:${port}`);
    const ch = await c.createChannel();
    const failed = new Promise<Error>((resolve) => ch.on('error', resolve));
    ch.publish('amq.topic', 'other.key', Buffer.from('x'));
    expect((await failed).message).toMatch(/write access to topic 'other.key'/);
    await c.close().catch(() => undefined);
    expect((await m.api('DELETE', '/api/topic-permissions/%2F/dave')).status).toBe(204);
    expect((await m.api('GET', '/api/topic-permissions/%2F/dave')).status).toBe(404);
  });
});

describe('policies', () => {
  it('a policy applies to matching running queues at once, shows on them, and lifts when cleared', async () => {
    await m.api('PUT', '/api/queues/%2F/pol.q', {});
    for (let i = 0; i < 5; i++) await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 'pol.q', payload: `m${i}`, payload_encoding: 'string' });
    expect((await m.api('PUT', '/api/policies/%2F/cap', { pattern: '^pol\\.', definition: { 'max-length': 2 }, priority: 1, 'apply-to': 'queues' })).status).toBe(201);
    const q = (await m.api('GET', '/api/queues/%2F/pol.q')).body;
    expect(q).toMatchObject({ policy: 'cap', effective_policy_definition: { 'max-length': 2 }, messages: 2 });
    expect((await m.api('GET', '/api/policies/%2F/cap')).body).toEqual({ vhost: '/', name: 'cap', pattern: '^pol\\.', 'apply-to': 'queues', definition: { 'max-length': 2 }, priority: 1 });
    // a higher-priority policy wins; the lower one stays defined
    await m.api('PUT', '/api/policies/%2F/ttl', { pattern: '^pol\\.q$', definition: { 'message-ttl': 60000 }, priority: 5 });
    expect((await m.api('GET', '/api/queues/%2F/pol.q')).body.policy).toBe('ttl');
    expect((await m.api('GET', '/api/policies')).body.map((p: { name: string }) => p.name).sort()).toEqual(['cap', 'ttl']);
    expect((await m.api('DELETE', '/api/policies/%2F/ttl')).status).toBe(204);
    expect((await m.api('DELETE', '/api/policies/%2F/cap')).status).toBe(204);
    expect((await m.api('DELETE', '/api/policies/%2F/cap')).status).toBe(404);
    expect((await m.api('GET', '/api/queues/%2F/pol.q')).body.policy).toBe(null);
  });

  it('an exchange policy sets the alternate exchange of a running exchange', async () => {
    await m.api('PUT', '/api/exchanges/%2F/pol.x', { type: 'direct' });
    await m.api('PUT', '/api/queues/%2F/pol.unrouted', {});
    await m.api('POST', '/api/bindings/%2F/e/amq.fanout/q/pol.unrouted', {});
    await m.api('PUT', '/api/policies/%2F/ae', { pattern: '^pol\\.x$', definition: { 'alternate-exchange': 'amq.fanout' }, 'apply-to': 'exchanges' });
    expect((await m.api('GET', '/api/exchanges/%2F/pol.x')).body.policy).toBe('ae');
    const r = await m.api('POST', '/api/exchanges/%2F/pol.x/publish', { properties: {}, routing_key: 'nowhere', payload: 'x', payload_encoding: 'string' });
    expect(r.body).toEqual({ routed: true });
    await m.api('DELETE', '/api/policies/%2F/ae');
  });

  it('invalid policies are 400 "Validation failed"', async () => {
    const bad = async (body: unknown) => (await m.api('PUT', '/api/policies/%2F/bad', body)).body;
    expect(await bad({ pattern: '(', definition: { 'max-length': 1 } })).toEqual({ error: 'bad_request', reason: expect.stringMatching(/^Validation failed\n\n.*invalid policy pattern/) });
    expect((await bad({ pattern: '.*', definition: { foo: 1 } })).reason).toMatch(/unrecognised policy key 'foo'/);
    expect((await bad({ pattern: '.*', definition: { 'max-length': 'lots' } })).reason).toMatch(/max-length must be a non-negative integer/);
    expect((await bad({ pattern: '.*', definition: {} })).reason).toMatch(/must not be empty/);
    expect((await bad({ pattern: '.*', definition: { 'max-length': 1 }, 'apply-to': 'everything' })).reason).toMatch(/invalid apply-to/);
    expect((await bad({ definition: { 'max-length': 1 } })).reason).toMatch(/pattern must be a string/);
    expect((await m.api('GET', '/api/policies/%2F/bad')).status).toBe(404);
  });
});

describe('health checks', () => {
  it('alarms: ok, then 503 listing the alarm while one is in effect', async () => {
    expect((await m.api('GET', '/api/health/checks/alarms')).body).toEqual({ status: 'ok' });
    const alarms = m.broker.core.alarms;
    const saved = alarms.settings.memoryHighWatermark;
    alarms.settings.memoryHighWatermark = 2; // bytes: any process is over it
    alarms.check();
    try {
      const r = await m.api('GET', '/api/health/checks/alarms');
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: 'failed', reason: 'resource alarm(s) in effect in the cluster', alarms: [{ node: expect.stringMatching(/^warren@/), resource: 'memory' }] });
      expect((await m.api('GET', '/api/overview')).body.alarms).toEqual(['memory']);
    } finally {
      alarms.settings.memoryHighWatermark = saved;
      alarms.check();
    }
    expect((await m.api('GET', '/api/health/checks/local-alarms')).body).toEqual({ status: 'ok' });
    expect((await m.api('GET', '/api/health/checks/virtual-hosts')).body).toEqual({ status: 'ok' });
  });

  it('aliveness test: a message goes round through a queue; the queue is not left behind', async () => {
    expect((await m.api('GET', '/api/aliveness-test/%2F')).body).toEqual({ status: 'ok' });
    expect((await m.api('GET', '/api/queues/%2F/aliveness-test')).status).toBe(404);
    expect((await m.api('GET', '/api/aliveness-test/nowhere')).status).toBe(404);
  });

  it('port listener check knows the management port', async () => {
    const { port } = m.broker.address('management');
    expect((await m.api('GET', `/api/health/checks/port-listener/${port}`)).body).toEqual({ status: 'ok', port });
    expect((await m.api('GET', '/api/health/checks/port-listener/1')).status).toBe(503);
  });
});

describe('persistence of API changes', () => {
  it('vhosts, users, permissions, policies and durable queues made through the API survive a restart', async () => {
    const b = await startManaged();
    const dataDir = b.dataDir;
    await b.api('PUT', '/api/vhosts/kept', { description: 'still here' });
    await b.api('PUT', '/api/users/erin', { password: 'pw', tags: 'management' });
    await b.api('PUT', '/api/permissions/kept/erin', { configure: '.*', write: '.*', read: '.*' });
    await b.api('PUT', '/api/policies/kept/lim', { pattern: '.*', definition: { 'max-length': 3 }, 'apply-to': 'queues' });
    await b.api('PUT', '/api/queues/kept/dq', { durable: true });
    await b.api('PUT', '/api/vhost-limits/kept/max-connections', { value: 7 });
    await b.api('PUT', '/api/vhosts/kept', { description: 'still here' }); // an update keeps the limits
    await b.api('POST', '/api/exchanges/kept/amq.default/publish', { properties: { delivery_mode: 2 }, routing_key: 'dq', payload: 'persisted', payload_encoding: 'string' });
    await b.broker.stop();
    const again = await startManaged({ dataDir });
    try {
      expect((await again.api('GET', '/api/vhosts/kept')).body.description).toBe('still here');
      expect((await again.api('GET', '/api/whoami', undefined, 'erin:pw')).status).toBe(200);
      const q = await eventually(async () => {
        const r = await again.api('GET', '/api/queues/kept/dq', undefined, 'erin:pw');
        return r.status === 200 ? r.body : undefined;
      });
      expect(q).toMatchObject({ policy: 'lim', messages: 1, durable: true });
      expect((await again.api('GET', '/api/vhost-limits/kept')).body).toEqual([{ vhost: 'kept', value: { 'max-connections': 7 } }]);
    } finally {
      await again.stop();
      const { rmSync } = await import('node:fs');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
