/**
 * Definitions in RabbitMQ's format: a file exported from RabbitMQ 3.10.8 imports (through
 * the API and at boot with load_definitions), what it defines works (logins, permissions,
 * routing, alternate exchanges, policies), and Warren's own export imports back to the same.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startManaged, type ManagedBroker } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'rabbitmq-3.10.8-definitions.json');
const VHOST_FIXTURE = join(import.meta.dirname, 'fixtures', 'rabbitmq-3.10.8-vhost-fixture-shop.json');
const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

const running: ManagedBroker[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function broker(extra?: Parameters<typeof startManaged>[0]): Promise<ManagedBroker> {
  const b = await startManaged(extra);
  running.push(b);
  return b;
}

async function checkFixtureImported(m: ManagedBroker): Promise<void> {
  const names = async (path: string) => (await m.api('GET', path)).body.map((x: { name: string }) => x.name).sort();
  expect(await names('/api/vhosts')).toEqual(['/', 'fixture-iot', 'fixture-shop']);
  expect(await names('/api/users')).toEqual(['fixture-admin', 'fixture-app', 'fixture-monitor', 'fixture-nologin', 'guest']);
  expect(await names('/api/exchanges/fixture-shop')).toEqual(expect.arrayContaining(['orders', 'orders.dlx', 'orders.internal', 'orders.unrouted']));
  expect((await m.api('GET', '/api/exchanges/fixture-shop/orders.internal')).body).toMatchObject({ type: 'headers', internal: true, durable: true });
  expect((await m.api('GET', '/api/exchanges/%2F/warren-test.x-bound.c151e3ec57')).body).toMatchObject({ durable: false });
  expect(await names('/api/queues/fixture-shop')).toEqual(['orders.created', 'orders.dead', 'orders.priority', 'orders.unrouted']);
  expect((await m.api('GET', '/api/queues/fixture-shop/orders.created')).body).toMatchObject({
    durable: true,
    arguments: { 'x-dead-letter-exchange': 'orders.dlx', 'x-message-ttl': 60000 },
    policy: 'orders-limits',
    effective_policy_definition: { 'max-length': 5000, 'message-ttl': 3600000 },
  });
  expect((await m.api('GET', '/api/queues/fixture-iot/commands')).body.policy).toBe('commands-dlx');
  expect((await m.api('GET', '/api/exchanges/fixture-shop/orders')).body.policy).toBe('orders-ae');
  expect(await names('/api/policies')).toEqual(['commands-dlx', 'orders-ae', 'orders-limits', 'telemetry-retention']);
  expect((await m.api('GET', '/api/permissions/fixture-shop/fixture-app')).body).toEqual({
    user: 'fixture-app',
    vhost: 'fixture-shop',
    configure: '^orders\\.',
    write: '^(orders|amq\\.default)',
    read: '^orders\\.',
  });
  expect((await m.api('GET', '/api/topic-permissions/fixture-iot/fixture-app')).body).toEqual([
    { user: 'fixture-app', vhost: 'fixture-iot', exchange: 'amq.topic', write: '^devices\\.', read: '.*' },
  ]);
  expect((await m.api('GET', '/api/vhost-limits/fixture-iot')).body).toEqual([{ vhost: 'fixture-iot', value: { 'max-connections': 100 } }]);
  const bindings = (await m.api('GET', '/api/bindings/fixture-shop')).body.filter((b: { source: string }) => b.source !== '');
  expect(bindings).toHaveLength(5);
  expect(bindings).toEqual(expect.arrayContaining([expect.objectContaining({ source: 'orders', destination: 'orders.priority', routing_key: 'order.*.urgent', arguments: { 'x-note': 'urgent' } })]));

  // RabbitMQ's password hashes log in; the app user's permissions hold; routing and the AE work
  expect((await m.api('GET', '/api/whoami', undefined, 'fixture-admin:admin-secret')).body).toEqual({ name: 'fixture-admin', tags: ['administrator'] });
  expect((await m.api('GET', '/api/whoami', undefined, 'fixture-nologin:')).status).toBe(401);
  const { host, port } = m.broker.address('amqp');
  const c = await amqp.connect(`amqp://fixture-app:app-secret@${host}:${port}/fixture-shop`);
  const ch = await c.createConfirmChannel();
  ch.publish('orders', 'order.created.eu', Buffer.from('o1'));
  ch.publish('orders', 'unmatched.key', Buffer.from('o2'));
  await ch.waitForConfirms();
  expect((await ch.checkQueue('orders.created')).messageCount).toBe(1);
  expect((await ch.checkQueue('orders.unrouted')).messageCount).toBe(1);
  await c.close();
}

describe('importing RabbitMQ definitions', () => {
  it('POST /api/definitions with a RabbitMQ 3.10.8 export: everything in it is defined and works', async () => {
    const m = await broker();
    const r = await m.api('POST', '/api/definitions', fixture());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ vhosts: 3, users: 5, permissions: 7, topicPermissions: 1, policies: 4, exchanges: 5, bindings: 6 });
    expect(r.body.queues).toBeGreaterThanOrEqual(8);
    // nothing is skipped: the broker has a data directory, so the stream queue and its binding exist
    expect(r.body.warnings).toEqual([]);
    expect(r.body.queues).toBe(9);
    expect((await m.api('GET', '/api/queues/fixture-iot/telemetry')).body.arguments).toMatchObject({ 'x-queue-type': 'stream' });
    await checkFixtureImported(m);
  });

  it('load_definitions imports the file at boot; the definitions are durable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-loaddefs-'));
    try {
      const m = await startManaged({ dataDir, extra: { loadDefinitions: FIXTURE } });
      try {
        await checkFixtureImported(m);
      } finally {
        await m.stop();
      }
      // restarted without the file: what it defined is still there
      const again = await startManaged({ dataDir });
      try {
        expect((await again.api('GET', '/api/policies/fixture-shop/orders-limits')).status).toBe(200);
        expect((await again.api('GET', '/api/whoami', undefined, 'fixture-monitor:monitor-secret')).status).toBe(200);
        expect((await again.api('GET', '/api/queues/fixture-shop/orders.priority')).body.arguments).toEqual({ 'x-max-priority': 10 });
        expect((await again.api('GET', '/api/bindings/fixture-shop/e/orders/e/orders.internal')).body).toHaveLength(1);
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an unreadable load_definitions file fails the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-baddefs-'));
    try {
      writeFileSync(join(dir, 'defs.json'), '{ not json');
      await expect(startManaged({ extra: { loadDefinitions: join(dir, 'defs.json') } })).rejects.toThrow(/cannot read definitions file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a per-vhost export imports into another vhost (POST /api/definitions/{vhost})', async () => {
    const m = await broker();
    await m.api('PUT', '/api/vhosts/copy', {});
    const r = await m.api('POST', '/api/definitions/copy', JSON.parse(readFileSync(VHOST_FIXTURE, 'utf8')));
    expect(r.body).toMatchObject({ policies: 2, exchanges: 4, queues: 4, bindings: 5, warnings: [] });
    expect((await m.api('GET', '/api/queues/copy/orders.created')).body.policy).toBe('orders-limits');
    expect((await m.api('POST', '/api/definitions/nowhere', {})).status).toBe(404);
  });

  it('quorum queues come in as quorum queues; bad items are skipped and reported', async () => {
    const m = await broker();
    const r = await m.api('POST', '/api/definitions', {
      queues: [
        { name: 'qq', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } },
        { name: 'bad', vhost: '/', durable: true, arguments: { 'x-max-length': 'many' } },
        { name: 'elsewhere', vhost: 'missing', durable: true, arguments: {} },
      ],
      bindings: [{ source: 'amq.direct', vhost: '/', destination: 'nope', destination_type: 'queue', routing_key: 'k', arguments: {} }],
      users: [{ name: 'u', password_hash: 'x', hashing_algorithm: 'rabbit_password_hashing_bcrypt', tags: [] }],
      exchanges: 'not a list',
    });
    expect(r.status).toBe(200);
    expect(r.body.queues).toBe(1);
    expect(r.body.warnings).toEqual([
      "user 'u': unsupported hashing algorithm 'rabbit_password_hashing_bcrypt'",
      "'exchanges' is not a list: skipped",
      expect.stringMatching(/^queue 'bad' in vhost '\/': PRECONDITION_FAILED - invalid arg 'x-max-length'/),
      "queue 'elsewhere' in vhost 'missing': vhost 'missing' does not exist",
      expect.stringMatching(/^binding of queue 'nope' to exchange 'amq.direct' in vhost '\/': NOT_FOUND/),
    ]);
    expect((await m.api('GET', '/api/queues/%2F/qq')).body).toMatchObject({ durable: true, type: 'quorum', arguments: { 'x-delivery-limit': 5 }, delivery_limit: 5 });
    expect((await m.api('POST', '/api/definitions', '[1,2]')).status).toBe(400);
  });

  it('a vhost item with bad tags is skipped and reported; the vhosts after it and the rest of the file still import', async () => {
    const m = await broker();
    const r = await m.api('POST', '/api/definitions', {
      vhosts: [{ name: 'bad-tags', tags: 5 }, { name: 'after-bad' }],
      queues: [{ name: 'q.after-bad', vhost: 'after-bad', durable: true, arguments: {} }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ vhosts: 1, queues: 1 });
    expect(r.body.warnings).toEqual([expect.stringMatching(/^vhost 'bad-tags': PRECONDITION_FAILED - tags must be/)]);
    expect((await m.api('GET', '/api/vhosts/bad-tags')).status).toBe(404);
    expect((await m.api('GET', '/api/queues/after-bad/q.after-bad')).status).toBe(200);
  });

  it('a limit that is not an integer is refused and reported, not stored as no limit', async () => {
    const m = await broker();
    const r = await m.api('POST', '/api/definitions', {
      parameters: [{ component: 'vhost-limits', vhost: '/', name: 'limits', value: { 'max-connections': 'lots' } }],
      users: [{ name: 'limited', password: 'p', tags: [], limits: { 'max-channels': 1.5 } }],
    });
    expect(r.status).toBe(200);
    expect(r.body.warnings).toEqual([
      expect.stringMatching(/^user 'limited': PRECONDITION_FAILED - invalid limit maxChannels: 1.5/),
      expect.stringMatching(/^limits of vhost '\/': PRECONDITION_FAILED - invalid limit maxConnections: NaN/),
    ]);
    expect((await m.api('GET', '/api/vhost-limits')).body).toEqual([]);
  });
});

describe('exporting', () => {
  it("Warren's export, imported into a fresh broker, exports the same again", async () => {
    const a = await broker();
    await a.api('POST', '/api/definitions', fixture());
    const exported = (await a.api('GET', '/api/definitions?download=warren.json'));
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="warren.json"');
    const first = exported.body;
    expect(first).toMatchObject({ product_name: 'Warren', users: expect.any(Array), vhosts: expect.any(Array), global_parameters: [] });
    expect(first.parameters).toEqual([{ vhost: 'fixture-iot', component: 'vhost-limits', name: 'limits', value: { 'max-connections': 100 } }]);
    expect(first.users.find((u: { name: string }) => u.name === 'fixture-app')).toEqual({
      name: 'fixture-app',
      password_hash: 'il8edk6Pp9O2Sb/Bpk6kT+ceSTTDeyEXztS1UtcA/ZlhPfDm',
      hashing_algorithm: 'rabbit_password_hashing_sha256',
      tags: ['management'],
      limits: {},
    });
    const b = await broker();
    expect((await b.api('POST', '/api/definitions', first)).body.warnings).toEqual([]);
    const second = (await b.api('GET', '/api/definitions')).body;
    const sorted = (d: Record<string, unknown[]>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Array.isArray(v) ? [...v].map((x) => JSON.stringify(x)).sort() : v]));
    expect(sorted(second)).toEqual(sorted(first));
  });

  it('a vhost export has no vhost fields and no users', async () => {
    const m = await broker();
    await m.api('POST', '/api/definitions', fixture());
    const d = (await m.api('GET', '/api/definitions/fixture-shop')).body;
    expect(d.users).toBeUndefined();
    expect(d.queues.map((q: { name: string }) => q.name).sort()).toEqual(['orders.created', 'orders.dead', 'orders.priority', 'orders.unrouted']);
    expect(d.queues.every((q: object) => !('vhost' in q))).toBe(true);
    expect((await m.api('GET', '/api/definitions/nowhere')).status).toBe(404);
  });
});
