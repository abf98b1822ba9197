/**
 * `warren ctl`, the compiled CLI (test/global-setup.ts builds it) run as a separate process
 * against a running broker's management API, as an operator runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startManaged, type ManagedBroker } from './helpers.js';

const cli = join(inject('buildDir'), 'src', 'cli.js');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'rabbitmq-3.10.8-definitions.json');

let m: ManagedBroker;
let port: number;
let dir: string;
beforeAll(async () => {
  m = await startManaged();
  port = m.broker.address('management').port;
  dir = mkdtempSync(join(tmpdir(), 'warren-ctl-'));
});
afterAll(async () => {
  await m?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `warren ctl …` with the broker's port in the environment (as an operator's shell would have it). */
function ctl(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Result> {
  const child = spawn(process.execPath, [cli, 'ctl', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', WARREN_CTL_HOST: '127.0.0.1', WARREN_MANAGEMENT_PORT: String(port), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

// A case runs `warren ctl` up to ten times, one process after another; on a loaded 2-core
// machine a Node.js process takes a second or two to start, which is not what is tested here.
describe('warren ctl', { timeout: 60_000 }, () => {
  it('status: version, totals, alarms, listeners', async () => {
    const r = await ctl(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Status of node warren@/);
    expect(r.stdout).toMatch(/Product: Warren \d/);
    expect(r.stdout).toMatch(/Alarms\n {2}\(none\)/);
    expect(r.stdout).toMatch(new RegExp(`http on 127\\.0\\.0\\.1:${port}`));
    const json = await ctl(['status', '--formatter', 'json']);
    expect(JSON.parse(json.stdout).node).toMatchObject({ running: true });
  });

  it('add_user, set_permissions, list_users, list_permissions; the user then works over AMQP', async () => {
    expect((await ctl(['add_user', 'ops', 'ops-pw', '--tags', 'management'])).stdout).toBe('Adding user "ops" ...\n');
    expect((await ctl(['add_vhost', 'ctl-vh'])).code).toBe(0);
    expect((await ctl(['set_permissions', '-p', 'ctl-vh', 'ops', '^ops\\.', '.*', '.*'])).code).toBe(0);
    const users = await ctl(['list_users', '-q']);
    expect(users.stdout.split('\n')).toEqual(expect.arrayContaining(['name\ttags', 'ops\t["management"]', 'guest\t["administrator"]']));
    const perms = await ctl(['list_permissions', '-p', 'ctl-vh']);
    expect(perms.stdout).toBe('Listing permissions for vhost ctl-vh ...\nuser\tconfigure\twrite\tread\nguest\t.*\t.*\t.*\nops\t^ops\\.\t.*\t.*\n');
    const { host, port: amqpPort } = m.broker.address('amqp');
    const c = await amqp.connect(`amqp://ops:ops-pw@${host}:${amqpPort}/ctl-vh`);
    const ch = await c.createChannel();
    await ch.assertQueue('ops.jobs');
    ch.sendToQueue('ops.jobs', Buffer.from('x'));
    await ch.consume('ops.jobs', () => undefined, { consumerTag: 'ops-consumer' });
    try {
      const queues = await ctl(['list_queues', '-p', 'ctl-vh', 'name', 'messages', 'consumers', 'durable']);
      expect(queues.stdout).toBe('Listing queues for vhost ctl-vh ...\nname\tmessages\tconsumers\tdurable\nops.jobs\t1\t1\ttrue\n');
      const consumers = await ctl(['list_consumers', '-p', 'ctl-vh', '--no-table-headers', '-q', 'queue_name', 'consumer_tag', 'ack_required']);
      expect(consumers.stdout).toBe('ops.jobs\tops-consumer\ttrue\n');
      const connections = await ctl(['list_connections', 'user', 'vhost', 'protocol', 'name']);
      expect(connections.stdout).toMatch(/^Listing connections \.\.\.\nuser\tvhost\tprotocol\tname\nops\tctl-vh\tAMQP 0-9-1\t127\.0\.0\.1:\d+ \(\d+\)\n$/);
      const name = connections.stdout.trim().split('\n')[2]!.split('\t')[3]!;
      const closed = new Promise<Error>((resolve) => c.on('close', resolve));
      expect((await ctl(['close_connection', name, 'rotating credentials'])).code).toBe(0);
      expect((await closed).message).toMatch(/CONNECTION_FORCED - rotating credentials/);
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('list_exchanges and list_bindings with rabbitmqctl default columns, and JSON', async () => {
    await m.api('PUT', '/api/exchanges/%2F/ctl.x', { type: 'topic' });
    await m.api('PUT', '/api/queues/%2F/ctl.q', {});
    await m.api('POST', '/api/bindings/%2F/e/ctl.x/q/ctl.q', { routing_key: 'a.#' });
    const x = await ctl(['list_exchanges', '-q']);
    expect(x.stdout.split('\n')).toEqual(expect.arrayContaining(['name\ttype', 'ctl.x\ttopic', 'amq.fanout\tfanout', '\tdirect']));
    const b = await ctl(['list_bindings']);
    expect(b.stdout).toContain('source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n');
    expect(b.stdout).toContain('ctl.x\texchange\tctl.q\tqueue\ta.#\t{}\n');
    const json = JSON.parse((await ctl(['list_bindings', '--formatter', 'json', 'source_name', 'routing_key'])).stdout);
    expect(json).toEqual(expect.arrayContaining([{ source_name: 'ctl.x', routing_key: 'a.#' }]));
  });

  it('set_policy applies at once; list_policies; clear_policy', async () => {
    await m.api('PUT', '/api/queues/%2F/ctl.capped', {});
    for (let i = 0; i < 4; i++) await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 'ctl.capped', payload: 'x', payload_encoding: 'string' });
    const set = await ctl(['set_policy', '--priority', '3', '--apply-to', 'queues', 'cap', '^ctl\\.capped$', '{"max-length":1}']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('Setting policy "cap" for pattern "^ctl\\.capped$" to "{"max-length":1}" with priority "3" for vhost "/" ...\n');
    expect((await m.api('GET', '/api/queues/%2F/ctl.capped')).body).toMatchObject({ policy: 'cap', messages: 1 });
    expect((await ctl(['list_policies', '-q', '--no-table-headers'])).stdout).toBe('/\tcap\t^ctl\\.capped$\tqueues\t{"max-length":1}\t3\n');
    expect((await ctl(['clear_policy', 'cap'])).code).toBe(0);
    expect((await m.api('GET', '/api/queues/%2F/ctl.capped')).body.policy).toBe(null);
    const bad = await ctl(['set_policy', 'p', '.*', '{not json']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/not JSON/);
    const invalid = await ctl(['set_policy', 'p', '.*', '{"max-length":"x"}']);
    expect(invalid.code).toBe(65);
    expect(invalid.stderr).toMatch(/^Error: bad_request: Validation failed/);
  });

  it('import_definitions from a RabbitMQ export, export_definitions to a file and to stdout', async () => {
    const imported = await ctl(['import_definitions', FIXTURE]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^Imported definitions from .*rabbitmq-3\.10\.8-definitions\.json/);
    expect((await m.api('GET', '/api/queues/fixture-shop/orders.created')).status).toBe(200);
    const file = join(dir, 'export.json');
    expect((await ctl(['export_definitions', file])).stdout).toBe(`Exported definitions to ${file}\n`);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    expect(exported.vhosts.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['fixture-shop', 'fixture-iot', 'ctl-vh']));
    const stdout = await ctl(['export_definitions', '-']);
    expect(JSON.parse(stdout.stdout).users).toEqual(exported.users);
    const fromStdin = await ctl(['import_definitions', '-'], { stdin: JSON.stringify({ vhosts: [{ name: 'from-stdin' }] }) });
    expect(fromStdin.code).toBe(0);
    expect((await m.api('GET', '/api/vhosts/from-stdin')).status).toBe(200);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect((await ctl(['import_definitions', join(dir, 'bad.json')])).code).toBe(64);
  });

  it('purge_queue, delete_queue, delete_user, delete_vhost', async () => {
    await m.api('PUT', '/api/queues/%2F/ctl.gone', {});
    await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 'ctl.gone', payload: 'x', payload_encoding: 'string' });
    expect((await ctl(['purge_queue', 'ctl.gone'])).code).toBe(0);
    expect((await m.api('GET', '/api/queues/%2F/ctl.gone')).body.messages).toBe(0);
    expect((await ctl(['delete_queue', 'ctl.gone'])).code).toBe(0);
    expect((await m.api('GET', '/api/queues/%2F/ctl.gone')).status).toBe(404);
    await ctl(['add_user', 'temp', 'pw']);
    expect((await ctl(['delete_user', 'temp'])).code).toBe(0);
    expect((await ctl(['delete_user', 'temp'])).code).toBe(65);
    await ctl(['add_vhost', 'temp-vh']);
    expect((await ctl(['delete_vhost', 'temp-vh', '-q'])).stdout).toBe('');
    expect((await m.api('GET', '/api/vhosts/temp-vh')).status).toBe(404);
  });

  it('flags for host, port, user and password override the environment', async () => {
    await m.api('PUT', '/api/users/watcher', { password: 'w-pw', tags: 'monitoring' });
    const r = await ctl(['--user', 'watcher', '--password', 'w-pw', '--host', '127.0.0.1', '--port', String(port), 'list_vhosts', '-q'], { env: { WARREN_MANAGEMENT_PORT: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('name');
    // a monitoring user sees the node in status but may not list users
    expect((await ctl(['-u', 'watcher', '--password', 'w-pw', 'list_users'])).code).toBe(77);
  });

  it('errors: wrong password 77, broker not reachable 69, unknown command and bad arguments 64', async () => {
    const denied = await ctl(['list_queues', '--password', 'wrong']);
    expect(denied.code).toBe(77);
    expect(denied.stderr).toBe('Error: not_authorised: Login failed\n');
    const down = await ctl(['status', '--port', '1']);
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(/cannot reach the management API at 127\.0\.0\.1:1/);
    expect((await ctl(['frobnicate'])).code).toBe(64);
    const usage = await ctl(['set_permissions', 'ops']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/usage: warren ctl set_permissions \[-p <vhost>\] <user> <conf> <write> <read>/);
    expect((await ctl(['list_queues', '--bogus'])).code).toBe(64);
    const help = await ctl(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/list_queues/);
  });
});
