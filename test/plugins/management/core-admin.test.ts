/**
 * The core operations the management API stands on: definitions changed while running are
 * applied live and survive a restart; an operator can close a client connection.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import { hashPassword } from '../../../src/auth/passwords.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'warren-core-admin-'));
  dirs.push(d);
  return d;
}

async function withBroker<T>(dataDir: string, f: (b: Broker) => Promise<T>): Promise<T> {
  const b = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } });
  await b.start();
  try {
    return await f(b);
  } finally {
    await b.stop();
  }
}

describe('operator changes to definitions', () => {
  it('a vhost, user, permissions, topic permissions and a policy made while running survive a restart', async () => {
    const dir = tempDir();
    await withBroker(dir, async (b) => {
      await b.core.createVhost('shop', { description: 'orders', tags: ['prod'] });
      b.core.putUser({ name: 'ann', passwordHash: hashPassword('secret'), tags: ['management'] });
      b.core.setPermissions('ann', 'shop', { configure: '.*', write: '.*', read: '.*' });
      b.core.setTopicPermission('ann', 'shop', { exchange: 'amq.topic', write: '^a\\.', read: '.*' });
      b.core.setPolicy({ vhost: 'shop', name: 'cap', pattern: '^orders$', applyTo: 'queues', priority: 1, definition: { 'max-length': 2 } });
      const { host, port } = b.address('amqp');
      const c = await amqp.connect(`amqp://ann:secret@${host}:${port}/shop`);
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('orders', { durable: true });
      for (let i = 0; i < 5; i++) ch.sendToQueue('orders', Buffer.from(`m${i}`), { persistent: true });
      await ch.waitForConfirms();
      expect((await ch.checkQueue('orders')).messageCount).toBe(2); // the policy's max-length, live
      await c.close();
    });
    await withBroker(dir, async (b) => {
      const v = b.core.vhosts.get('shop');
      expect(v?.metadata).toEqual({ description: 'orders', tags: ['prod'] });
      expect(v?.policies.get('cap')?.definition).toEqual({ 'max-length': 2 });
      expect(v?.queues.get('orders')?.policy).toBe('cap');
      expect(b.core.users.topicPermissions('ann', 'shop')).toEqual([{ exchange: 'amq.topic', write: '^a\\.', read: '.*' }]);
      const { host, port } = b.address('amqp');
      const c = await amqp.connect(`amqp://ann:secret@${host}:${port}/shop`);
      const ch = await c.createChannel();
      expect((await ch.checkQueue('orders')).messageCount).toBe(2);
      await c.close();
    });
  });

  it('clearing a policy lifts its limits at once and for good', async () => {
    const dir = tempDir();
    await withBroker(dir, async (b) => {
      b.core.setPolicy({ vhost: '/', name: 'ttl', pattern: '.*', applyTo: 'all', priority: 0, definition: { 'max-length': 1 } });
      expect(b.core.clearPolicy('/', 'ttl')).toBe(true);
      expect(b.core.clearPolicy('/', 'ttl')).toBe(false);
    });
    await withBroker(dir, async (b) => {
      expect(b.core.vhosts.get('/')?.policies.size).toBe(0);
    });
  });

  it('deleting a vhost closes its connections, forgets its permissions and removes its journal', async () => {
    const dir = tempDir();
    await withBroker(dir, async (b) => {
      await b.core.createVhost('tmp');
      b.core.setPermissions('guest', 'tmp', { configure: '.*', write: '.*', read: '.*' });
      const c = await amqp.connect(`${b.url('amqp')}/tmp`);
      const closed = new Promise<Error>((resolve) => c.on('close', resolve));
      const journals = readdirSync(join(dir, 'vhosts'));
      expect(journals.length).toBe(2);
      expect(await b.core.deleteVhost('tmp')).toBe(true);
      expect((await closed).message).toMatch(/320 .*vhost 'tmp' is deleted/);
      expect(b.core.users.permission('guest', 'tmp')).toBeUndefined();
      expect(readdirSync(join(dir, 'vhosts')).length).toBe(1);
      expect(await b.core.deleteVhost('tmp')).toBe(false);
    });
    await withBroker(dir, async (b) => {
      expect(b.core.hasVhost('tmp')).toBe(false);
    });
  });

  it('deleting a user closes its connections; unknown users and vhosts are NOT_FOUND for permissions', async () => {
    await withBroker(tempDir(), async (b) => {
      b.core.putUser({ name: 'bob', passwordHash: hashPassword('pw'), tags: [] });
      b.core.setPermissions('bob', '/', { configure: '', write: '', read: '.*' });
      const { host, port } = b.address('amqp');
      const c = await amqp.connect(`amqp://bob:pw@${host}:${port}`);
      const closed = new Promise<Error>((resolve) => c.on('close', resolve));
      expect(b.core.deleteUser('bob')).toBe(true);
      expect((await closed).message).toMatch(/320 .*user 'bob' is deleted/);
      expect(() => b.core.setPermissions('nobody', '/', { configure: '', write: '', read: '' })).toThrow(/NOT_FOUND/);
      expect(() => b.core.setPermissions('guest', 'nowhere', { configure: '', write: '', read: '' })).toThrow(/NOT_FOUND/);
    });
  });

  it('closeConnection asks the AMQP front-end to close with 320 and the reason', async () => {
    await withBroker(tempDir(), async (b) => {
      const c = await amqp.connect(b.url('amqp'));
      const closed = new Promise<Error>((resolve) => c.on('close', resolve));
      const [id] = [...b.core.connections.keys()];
      expect(b.core.closeConnection(id!, 'Closed via management plugin')).toBe(true);
      expect((await closed).message).toMatch(/CONNECTION_FORCED - Closed via management plugin/);
      expect(b.core.closeConnection(id!, 'again')).toBe(false);
    });
  });

  it('a definitions import from RabbitMQ with sha512 or md5 hashes still logs in', async () => {
    const { checkPassword } = await import('../../../src/auth/passwords.js');
    expect(checkPassword('pw', hashPassword('pw', Buffer.from('abcd'), 'sha512'))).toBe(true);
    expect(checkPassword('nope', hashPassword('pw', Buffer.from('abcd'), 'sha512'))).toBe(false);
    expect(checkPassword('pw', hashPassword('pw', Buffer.from('abcd'), 'md5'))).toBe(true);
    expect(checkPassword('pw', 'dG9vIHNob3J0')).toBe(false);
  });
});
