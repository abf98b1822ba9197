/**
 * The STOMP `host` header: clients that send the host name they dialled (STOMP 1.2 recommends
 * it; stomp.py always does, `host:127.0.0.1`) land in `stomp.default_vhost`; a header naming an
 * existing vhost selects it, with the usual permission check; `stomp.host_must_name_vhost`
 * restores RabbitMQ's refusal. With stomp.py (Debian python3-stomp, run by /usr/bin/python3)
 * and the raw-socket client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPythonModule, SYSTEM_PYTHON as PYTHON } from '../../helpers/require-tool.js';
import { RawClient, startStompBroker, type StompTestBroker } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./python/stomppy_roundtrip.py', import.meta.url));
const QUEUE = 'stomppy-roundtrip';
// in CI (CI=true) a missing stomp.py fails this file instead of skipping (require-tool.ts)
const available = hasPythonModule('stomp', 'python3-stomp', 'STOMP host-header tests with stomp.py');

interface StompPyResult {
  connected: boolean;
  received?: string[] | false;
  errors: string[];
}

function runStompPy(port: number, vhost = '', version = '1.2'): Promise<StompPyResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, String(port), vhost, version], { timeout: 20_000 }, (e, stdout, stderr) => {
      if (e) return reject(new Error(`stomp.py failed: ${e.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as StompPyResult);
    });
  });
}

/** Which vhosts hold the queue stomp.py used (then delete it, so the next case starts clean). */
function vhostsWithQueue(b: StompTestBroker): string[] {
  const found: string[] = [];
  for (const [name, v] of b.broker.core.vhosts) {
    if (v.queues.has(QUEUE)) {
      found.push(name);
      v.deleteQueue(QUEUE, 0, false, false);
    }
  }
  return found;
}

describe.skipIf(!available)('stomp.py and the host header', () => {
  let b: StompTestBroker;
  let strict: StompTestBroker;
  beforeAll(async () => {
    b = await startStompBroker({ default_vhost: 'devices' });
    b.broker.core.addVhost('devices');
    b.broker.core.addVhost('other');
    b.broker.core.addVhost('closed');
    b.broker.core.users.setPermissions('guest', 'devices', { configure: '.*', write: '.*', read: '.*' });
    b.broker.core.users.setPermissions('guest', 'other', { configure: '.*', write: '.*', read: '.*' });
    strict = await startStompBroker({ host_must_name_vhost: true });
  });
  afterAll(async () => {
    await b?.stop();
    await strict?.stop();
  });

  it.each(['1.1', '1.2'])('STOMP %s: host:127.0.0.1 connects to stomp.default_vhost, and a message goes round', async (version) => {
    const r = await runStompPy(b.tcpPort, '', version);
    expect(r).toEqual({ connected: true, received: ['hello from stomp.py'], errors: [] });
    expect(vhostsWithQueue(b)).toEqual(['devices']);
  });

  it('a host header naming an existing vhost selects it', async () => {
    const r = await runStompPy(b.tcpPort, 'other');
    expect(r.connected).toBe(true);
    expect(r.received).toEqual(['hello from stomp.py']);
    expect(vhostsWithQueue(b)).toEqual(['other']);
  });

  it('a vhost the user has no permission on is refused, as before', async () => {
    const r = await runStompPy(b.tcpPort, 'closed');
    expect(r.connected).toBe(false);
    expect(r.errors.join()).toContain("Virtual host 'closed' access denied");
  });

  it("stomp.host_must_name_vhost: RabbitMQ's refusal of a host that names no vhost", async () => {
    const r = await runStompPy(strict.tcpPort);
    expect(r.connected).toBe(false);
    expect(r.errors.join()).toContain("Virtual host '127.0.0.1' access denied");
    // absent, the header still means the default vhost
    const c = await RawClient.connect(strict.tcpPort);
    c.send('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest' });
    expect((await c.next()).command).toBe('CONNECTED');
    c.close();
  });
});

describe('raw socket', () => {
  let b: StompTestBroker;
  beforeAll(async () => {
    b = await startStompBroker();
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('host:<a host name> connects to the default vhost', async () => {
    const c = await RawClient.connect(b.tcpPort);
    c.send('CONNECT', { 'accept-version': '1.2', host: 'broker.example.com', login: 'guest', passcode: 'guest' });
    expect((await c.next()).command).toBe('CONNECTED');
    c.send('SEND', { destination: '/queue/host-raw', receipt: 'r' }, 'x');
    await c.until('RECEIPT');
    expect(b.broker.core.vhosts.get('/')!.queues.has('host-raw')).toBe(true);
    c.close();
  });

  it('the other clients carry on after a refused CONNECT', async () => {
    b.broker.core.addVhost('locked');
    const bad = await RawClient.connect(b.tcpPort);
    bad.send('CONNECT', { 'accept-version': '1.2', host: 'locked', login: 'guest', passcode: 'guest' });
    const frames = await bad.until('ERROR');
    expect(frames.pop()!.headers['message']).toBe('Bad CONNECT');
    await bad.waitClosed();
    const good = await RawClient.connect(b.tcpPort);
    good.send('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', login: 'guest', passcode: 'guest' });
    expect((await good.next()).command).toBe('CONNECTED');
    good.close();
  });
});
