/**
 * Permissions over STOMP, per destination kind, as rabbit_stomp_processor applies them: a
 * refusal is an ERROR frame whose message is `access_refused` (RabbitMQ's), naming the
 * permission, and the connection closes; the frame's receipt id comes back with it.
 *
 *   /queue/q        SEND: configure on q (declared on first use), write on amq.default;
 *                   SUBSCRIBE: configure and read on q
 *   /amq/queue/q    SUBSCRIBE: any permission on q to find it (passive), read to consume
 *   /topic/k        SEND: write on amq.topic, topic write on k; SUBSCRIBE: configure, write
 *                   and read on the subscription queue, read on amq.topic, topic read on k
 *   /exchange/x/k   SEND: write on x; SUBSCRIBE: read on x (the binding source)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { RawClient } from '../plugins/stomp/helpers.js';

let b: ThreeProtocolBroker;
const open: RawClient[] = [];
let n = 0;

beforeAll(async () => {
  b = await startThreeProtocols({ auth: { failureDelay: 0 } });
  const core = b.broker.core;
  core.putUser({ name: 'sam', passwordHash: hashPassword('pw'), tags: [] });
  core.setPermissions('sam', '/', {
    configure: '^(sam\\..*|stomp-subscription-.*)$',
    write: '^(sam\\..*|stomp-subscription-.*|amq\\.topic|amq\\.default|wo\\.x)$',
    read: '^(sam\\..*|stomp-subscription-.*|amq\\.topic|ro\\..*)$',
  });
  core.setTopicPermission('sam', '/', { exchange: 'amq.topic', write: '^{username}\\.', read: '^{username}\\.' });
  core.vhosts.get('/')!.declareExchange('wo.x', 'fanout', {}); // sam may write to it, not read from it
  const [g] = await RawClient.login(b.stompPort);
  open.push(g);
  // made by guest: a queue sam may only read, one sam may not touch, an exchange sam may not use
  g.send('SUBSCRIBE', { destination: '/queue/ro.q', id: '1', receipt: 'r1' });
  g.send('SUBSCRIBE', { destination: '/queue/other.q', id: '2', receipt: 'r2' });
  g.send('SUBSCRIBE', { destination: '/exchange/amq.fanout', id: '3', receipt: 'r3' });
  await g.until('RECEIPT');
  await g.until('RECEIPT');
  await g.until('RECEIPT');
});
afterEach(() => {
  for (const c of open.splice(1)) c.close();
});
afterAll(async () => {
  for (const c of open) c.close();
  await b?.stop();
});

async function sam(): Promise<RawClient> {
  const [c] = await RawClient.login(b.stompPort, '1.2', { login: 'sam', passcode: 'pw' });
  open.push(c);
  return c;
}

/** `frame` with a receipt: RECEIPT when allowed */
async function allowed(command: string, headers: Record<string, string>, body = ''): Promise<void> {
  const c = await sam();
  const receipt = `ok-${++n}`;
  c.send(command, { ...headers, receipt }, body);
  let f = await c.next(5000);
  while (f.command === 'MESSAGE') f = await c.next(5000); // what a subscription delivered first
  expect(`${f.command} ${f.headers['message'] ?? ''} ${f.body.toString()}`).toBe(`RECEIPT  `);
  expect(f.headers['receipt-id']).toBe(receipt);
}

/** `frame` with a receipt: ERROR access_refused naming `what`, with the receipt id, then close */
async function refused(command: string, headers: Record<string, string>, what: RegExp, body = ''): Promise<void> {
  const c = await sam();
  const receipt = `no-${++n}`;
  c.send(command, { ...headers, receipt }, body);
  const f = await c.next(5000);
  expect(f.command).toBe('ERROR');
  expect(f.headers['message']).toBe('access_refused');
  expect(f.headers['receipt-id']).toBe(receipt);
  expect(f.body.toString()).toMatch(what);
  await c.waitClosed(5000);
}

describe('/queue/', () => {
  it('SEND declares the queue (configure) and writes to the default exchange (amq.default)', async () => {
    await allowed('SEND', { destination: '/queue/sam.q' }, 'hi');
    await refused('SEND', { destination: '/queue/other.new' }, /configure access to queue 'other.new'/, 'no');
  });

  it('SUBSCRIBE needs configure and read on the queue', async () => {
    await allowed('SUBSCRIBE', { destination: '/queue/sam.q', id: 's' });
    await refused('SUBSCRIBE', { destination: '/queue/other.q', id: 's' }, /configure access to queue 'other.q'/);
  });
});

describe('/amq/queue/', () => {
  it('SUBSCRIBE to an existing queue needs read on it; no permission at all is refused', async () => {
    await allowed('SUBSCRIBE', { destination: '/amq/queue/ro.q', id: 's' });
    await refused('SUBSCRIBE', { destination: '/amq/queue/other.q', id: 's' }, /access to queue 'other.q'/);
  });
});

describe('/topic/', () => {
  it('SEND needs topic write on the routing key', async () => {
    await allowed('SEND', { destination: '/topic/sam.news' }, 'hi');
    await refused('SEND', { destination: '/topic/bob.news' }, /write access to topic 'bob.news' in exchange 'amq.topic'/, 'no');
  });

  it('SUBSCRIBE needs topic read on the binding key', async () => {
    await allowed('SUBSCRIBE', { destination: '/topic/sam.#', id: 's' });
    await refused('SUBSCRIBE', { destination: '/topic/bob.#', id: 's' }, /read access to topic 'bob.#' in exchange 'amq.topic'/);
  });
});

describe('/exchange/', () => {
  it('SEND needs write on the exchange', async () => {
    await allowed('SEND', { destination: '/exchange/amq.topic/sam.k' }, 'hi');
    await refused('SEND', { destination: '/exchange/amq.fanout/k' }, /write access to exchange 'amq.fanout'/, 'no');
  });

  it('SUBSCRIBE needs read on the exchange (the binding source)', async () => {
    await allowed('SUBSCRIBE', { destination: '/exchange/amq.topic/sam.k', id: 's' });
    await refused('SUBSCRIBE', { destination: '/exchange/wo.x', id: 's' }, /read access to exchange 'wo.x'/);
  });

  it('SUBSCRIBE to an exchange with no permission at all is refused when it is looked up (passive declare)', async () => {
    await refused('SUBSCRIBE', { destination: '/exchange/amq.fanout', id: 's' }, /configure access to exchange 'amq.fanout'/);
  });
});
