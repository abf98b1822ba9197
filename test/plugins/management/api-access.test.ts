/**
 * Who may see and do what through the API: HTTP basic auth failures, and RabbitMQ's user
 * tags — management (own connections, own vhosts), policymaker (policies), monitoring
 * (everything, read-only for admin objects), administrator (users, vhosts, definitions).
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonLoopbackIPv4 } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';

let m: ManagedBroker;
const APP = 'app:app-pw';
const MON = 'mon:mon-pw';
const POL = 'pol:pol-pw';
const PLAIN = 'plain:plain-pw';

beforeAll(async () => {
  m = await startManaged({ extra: { loopbackUsers: ['guest'] } });
  expect((await m.api('PUT', '/api/vhosts/shop', { description: 'the shop' })).status).toBe(201);
  expect((await m.api('PUT', '/api/vhosts/iot', {})).status).toBe(201);
  await m.api('PUT', '/api/users/app', { password: 'app-pw', tags: 'management' });
  await m.api('PUT', '/api/users/mon', { password: 'mon-pw', tags: ['monitoring'] });
  await m.api('PUT', '/api/users/pol', { password: 'pol-pw', tags: 'policymaker' });
  await m.api('PUT', '/api/users/plain', { password: 'plain-pw', tags: '' });
  await m.api('PUT', '/api/permissions/shop/app', { configure: '^app\\.', write: '.*', read: '.*' });
  await m.api('PUT', '/api/permissions/shop/pol', { configure: '.*', write: '.*', read: '.*' });
  await m.api('PUT', '/api/permissions/iot/mon', { configure: '', write: '', read: '.*' });
  await m.api('PUT', '/api/permissions/shop/plain', { configure: '.*', write: '.*', read: '.*' });
  await m.api('PUT', '/api/queues/shop/app.orders', {});
  await m.api('PUT', '/api/queues/iot/telemetry', {});
});
afterAll(async () => {
  await m?.stop();
});

describe('authentication', () => {
  it('no credentials: 401 with a Basic challenge', async () => {
    const r = await m.api('GET', '/api/overview', undefined, null);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(r.body).toEqual({ error: 'not_authorised', reason: 'Login failed' });
  });

  it('a wrong password or an unknown user: 401 Login failed', async () => {
    expect((await m.api('GET', '/api/overview', undefined, 'guest:wrong')).body).toEqual({ error: 'not_authorised', reason: 'Login failed' });
    expect((await m.api('GET', '/api/overview', undefined, 'nobody:x')).status).toBe(401);
    expect((await m.api('GET', '/api/overview', undefined, 'no-colon-here')).status).toBe(401);
  });

  it('a user without a management tag may not use the API (but may use AMQP)', async () => {
    expect((await m.api('GET', '/api/overview', undefined, PLAIN)).body).toEqual({ error: 'not_authorised', reason: 'Not management user' });
    const { host, port } = m.broker.address('amqp');
    const c = await amqp.connect(`amqp://plain:plain-pw@${host}:${port}/shop`);
    await c.close();
  });
});

describe('management tag', () => {
  it('sees only the vhosts it has permissions in, and their queues, exchanges and policies', async () => {
    expect((await m.api('GET', '/api/vhosts', undefined, APP)).body.map((v: { name: string }) => v.name)).toEqual(['shop']);
    expect((await m.api('GET', '/api/queues', undefined, APP)).body.map((q: { name: string }) => q.name)).toEqual(['app.orders']);
    expect((await m.api('GET', '/api/queues/iot', undefined, APP)).body).toEqual({ error: 'not_authorised', reason: 'User not authorised to access virtual host' });
    expect((await m.api('GET', '/api/exchanges/iot', undefined, APP)).status).toBe(401);
    expect((await m.api('GET', '/api/vhosts/iot', undefined, APP)).status).toBe(404);
    expect(new Set((await m.api('GET', '/api/exchanges', undefined, APP)).body.map((x: { vhost: string }) => x.vhost))).toEqual(new Set(['shop']));
  });

  it('sees its own connections only', async () => {
    const { host, port } = m.broker.address('amqp');
    const mine = await amqp.connect(`amqp://app:app-pw@${host}:${port}/shop`);
    const theirs = await amqp.connect(`amqp://pol:pol-pw@${host}:${port}/shop`);
    try {
      const seen = (await m.api('GET', '/api/connections', undefined, APP)).body;
      expect(seen.map((c: { user: string }) => c.user)).toEqual(['app']);
      const all = (await m.api('GET', '/api/connections', undefined, MON)).body;
      expect(all.map((c: { user: string }) => c.user).sort()).toEqual(['app', 'pol']);
      const other = all.find((c: { user: string }) => c.user === 'pol');
      // a monitor may look but not close another user's connection; nor may the management user see it
      expect((await m.api('DELETE', `/api/connections/${encodeURIComponent(other.name)}`, undefined, MON)).status).toBe(401);
      expect((await m.api('DELETE', `/api/connections/${encodeURIComponent(other.name)}`, undefined, APP)).status).toBe(404);
    } finally {
      await mine.close();
      await theirs.close();
    }
  });

  it('acts within its permissions: declares app.* queues, not others (the core refuses)', async () => {
    expect((await m.api('PUT', '/api/queues/shop/app.new', {}, APP)).status).toBe(201);
    const refused = await m.api('PUT', '/api/queues/shop/other', {}, APP);
    expect(refused.status).toBe(401);
    expect(refused.body.reason).toMatch(/configure access to queue 'other' in vhost 'shop' refused for user 'app'/);
    expect((await m.api('PUT', '/api/queues/iot/app.x', {}, APP)).status).toBe(401);
  });

  it('may not touch users, permissions, vhosts, definitions, nodes or policies', async () => {
    const notAdmin = { error: 'not_authorised', reason: 'Not administrator user' };
    expect((await m.api('GET', '/api/users', undefined, APP)).body).toEqual(notAdmin);
    expect((await m.api('GET', '/api/permissions', undefined, APP)).body).toEqual(notAdmin);
    expect((await m.api('GET', '/api/definitions', undefined, APP)).body).toEqual(notAdmin);
    expect((await m.api('PUT', '/api/vhosts/mine', {}, APP)).body).toEqual(notAdmin);
    expect((await m.api('GET', '/api/nodes', undefined, APP)).body).toEqual({ error: 'not_authorised', reason: 'Not monitor user' });
    expect((await m.api('PUT', '/api/policies/shop/p', { pattern: '.*', definition: { 'max-length': 1 } }, APP)).body).toEqual({
      error: 'not_authorised',
      reason: 'Not policymaker user',
    });
    expect((await m.api('GET', '/api/policies', undefined, APP)).status).toBe(200);
    expect((await m.api('GET', '/api/whoami', undefined, APP)).body).toEqual({ name: 'app', tags: ['management'] });
  });

  it('the aliveness test runs as the user, in its vhosts only', async () => {
    expect((await m.api('GET', '/api/aliveness-test/shop', undefined, POL)).body).toEqual({ status: 'ok' });
    expect((await m.api('GET', '/api/aliveness-test/iot', undefined, POL)).status).toBe(401);
    // configure is limited to app.*: the aliveness queue may not be declared
    expect((await m.api('GET', '/api/aliveness-test/shop', undefined, APP)).status).toBe(401);
  });
});

describe('policymaker tag', () => {
  it('sets and clears policies in its vhosts, not elsewhere', async () => {
    expect((await m.api('PUT', '/api/policies/shop/cap', { pattern: '^app\\.', definition: { 'max-length': 5 }, 'apply-to': 'queues' }, POL)).status).toBe(201);
    expect((await m.api('PUT', '/api/policies/iot/cap', { pattern: '.*', definition: { 'max-length': 5 } }, POL)).status).toBe(401);
    expect((await m.api('GET', '/api/policies/shop', undefined, APP)).body.map((p: { name: string }) => p.name)).toEqual(['cap']);
    expect((await m.api('DELETE', '/api/policies/shop/cap', undefined, POL)).status).toBe(204);
    expect((await m.api('GET', '/api/users', undefined, POL)).status).toBe(401);
  });
});

describe('monitoring tag', () => {
  it('sees every vhost, queue and node statistic, but no users, permissions or definitions', async () => {
    expect((await m.api('GET', '/api/vhosts', undefined, MON)).body.map((v: { name: string }) => v.name).sort()).toEqual(['/', 'iot', 'shop']);
    const queues = (await m.api('GET', '/api/queues', undefined, MON)).body.map((q: { name: string }) => q.name);
    expect(queues).toEqual(expect.arrayContaining(['app.orders', 'telemetry']));
    const nodes = (await m.api('GET', '/api/nodes', undefined, MON)).body;
    expect(nodes).toEqual([expect.objectContaining({ name: expect.stringMatching(/^warren@/), running: true, mem_used: expect.any(Number), mem_limit: expect.any(Number), disk_free: expect.any(Number) })]);
    expect((await m.api('GET', `/api/nodes/${encodeURIComponent(nodes[0].name)}`, undefined, MON)).status).toBe(200);
    expect((await m.api('GET', '/api/nodes/rabbit@elsewhere', undefined, MON)).status).toBe(404);
    expect((await m.api('GET', '/api/users', undefined, MON)).status).toBe(401);
    expect((await m.api('GET', '/api/definitions', undefined, MON)).status).toBe(401);
    expect((await m.api('DELETE', '/api/vhosts/iot', undefined, MON)).status).toBe(401);
  });

  it('may not act in a vhost without permissions there, even though it can see it', async () => {
    const r = await m.api('PUT', '/api/queues/shop/mon.q', {}, MON);
    expect(r.status).toBe(401);
    expect(r.body.reason).toMatch(/access to vhost 'shop' refused for user 'mon'/);
  });

  it('overview totals count what the user can see', async () => {
    const mine = (await m.api('GET', '/api/overview', undefined, APP)).body.object_totals;
    const all = (await m.api('GET', '/api/overview', undefined, MON)).body.object_totals;
    expect(mine.vhosts).toBe(1);
    expect(all.vhosts).toBe(3);
    expect(all.queues).toBeGreaterThan(mine.queues);
  });
});

/** A non-loopback address of this machine, if it has one. */
const externalAddress = nonLoopbackIPv4('management API loopback-users test');

describe('loopback users', () => {
  it.skipIf(externalAddress === undefined)('guest may not log in from another address than loopback (RabbitMQ loopback_users)', async () => {
    const b = await startManaged({ extra: { management: { port: 0, host: '0.0.0.0', sampleInterval: 200 } } });
    try {
      const port = b.broker.address('management').port;
      const as = (auth: string, host: string) =>
        fetch(`http://${host}:${port}/api/whoami`, { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } });
      expect((await as('guest:guest', '127.0.0.1')).status).toBe(200);
      const remote = await as('guest:guest', externalAddress!);
      expect(remote.status).toBe(401);
      expect(await remote.json()).toEqual({ error: 'not_authorised', reason: 'Login failed' });
      await b.api('PUT', '/api/users/ops', { password: 'ops-pw', tags: 'administrator' });
      expect((await as('ops:ops-pw', externalAddress!)).status).toBe(200);
    } finally {
      await b.stop();
    }
  });
});
