/**
 * RabbitMQ's own `rabbitmqadmin` (Debian's rabbitmq-server package) driving Warren's
 * management API: existing scripts keep working. Needs /usr/bin/rabbitmqadmin
 * (test/helpers/require-tool.ts: skipped with a warning without it, failed in CI).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';

const RABBITMQADMIN = '/usr/bin/rabbitmqadmin';
const present = hasExecutable(RABBITMQADMIN, 'rabbitmq-server', 'rabbitmqadmin test');

let m: ManagedBroker;
let dir: string;

/** Asynchronously: the broker runs in this process, so a blocking call would deadlock it. */
function admin(...args: string[]): Promise<{ code: number; out: string }> {
  const port = String(m.broker.address('management').port);
  return new Promise((resolve) =>
    execFile(RABBITMQADMIN, ['-H', '127.0.0.1', '-P', port, '-u', 'guest', '-p', 'guest', ...args], { encoding: 'utf8' }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: out + err }),
    ),
  );
}

describe.skipIf(!present)('rabbitmqadmin against Warren', () => {
  beforeAll(async () => {
    m = await startManaged();
    dir = mkdtempSync(join(tmpdir(), 'warren-rabbitmqadmin-'));
  });
  afterAll(async () => {
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('declares, binds, publishes, lists and gets as with RabbitMQ', async () => {
    expect((await admin('declare', 'queue', 'name=adm.q', 'durable=true')).out).toBe('queue declared\n');
    expect((await admin('declare', 'exchange', 'name=adm.x', 'type=topic')).out).toBe('exchange declared\n');
    expect((await admin('declare', 'binding', 'source=adm.x', 'destination=adm.q', 'routing_key=a.#')).out).toBe('binding declared\n');
    expect((await admin('publish', 'exchange=adm.x', 'routing_key=a.b', 'payload=hello')).out).toBe('Message published\n');
    expect((await admin('-f', 'tsv', '-q', 'list', 'queues', 'name', 'messages')).out).toBe('adm.q\t1\n');
    const got = await admin('-f', 'raw_json', 'get', 'queue=adm.q', 'ackmode=ack_requeue_false');
    expect(JSON.parse(got.out)).toEqual([expect.objectContaining({ payload: 'hello', routing_key: 'a.b', exchange: 'adm.x', redelivered: false })]);
    expect((await admin('-f', 'tsv', '-q', 'list', 'bindings', 'source', 'destination', 'routing_key')).out).toBe('\tadm.q\tadm.q\nadm.x\tadm.q\ta.#\n');
    expect((await admin('delete', 'binding', 'source=adm.x', 'destination=adm.q', 'properties_key=a.%23', 'destination_type=queue')).out).toBe('binding deleted\n');
  });

  it('policies, users, vhosts, overview, nodes and definitions export', async () => {
    expect((await admin('declare', 'policy', 'name=p1', 'pattern=^adm', 'definition={"max-length":5}', 'apply-to=queues')).out).toBe('policy declared\n');
    expect((await admin('-f', 'tsv', '-q', 'list', 'policies', 'name', 'pattern')).out).toBe('p1\t^adm\n');
    expect((await admin('declare', 'user', 'name=adm-user', 'password=pw', 'tags=monitoring')).out).toBe('user declared\n');
    expect((await admin('declare', 'vhost', 'name=adm-vh')).out).toBe('vhost declared\n');
    expect((await admin('declare', 'permission', 'vhost=adm-vh', 'user=adm-user', 'configure=.*', 'write=.*', 'read=.*')).out).toBe('permission declared\n');
    expect((await admin('-f', 'tsv', '-q', 'list', 'vhosts', 'name')).out.split('\n').sort()).toEqual(['', '/', 'adm-vh']);
    expect((await admin('-f', 'tsv', '-q', 'show', 'overview', 'cluster_name', 'object_totals.queues')).out).toMatch(/^warren@\S+\t1\n$/);
    expect((await admin('-f', 'tsv', '-q', 'list', 'nodes', 'name', 'type')).out).toMatch(/^warren@\S+\tdisc\n$/);
    const file = join(dir, 'export.json');
    expect((await admin('export', file)).code).toBe(0);
    const defs = JSON.parse(readFileSync(file, 'utf8'));
    expect(defs.queues.map((q: { name: string }) => q.name)).toEqual(['adm.q']);
    expect(defs.policies.map((p: { name: string }) => p.name)).toEqual(['p1']);
    expect((await admin('purge', 'queue', 'name=adm.q')).out).toBe('queue purged\n');
    expect((await admin('delete', 'queue', 'name=adm.q')).out).toBe('queue deleted\n');
    expect((await admin('delete', 'vhost', 'name=adm-vh')).out).toBe('vhost deleted\n');
  }, 60_000); // CPU-heavy: the 15 s default was not enough at load average 35 on 2 cores

  it('reports the API errors as RabbitMQ would', async () => {
    const r = await admin('declare', 'queue', 'name=adm.bad', 'arguments={"x-max-length":"many"}');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/invalid arg 'x-max-length'/);
  });
});
