/**
 * Limits as STOMP clients see them: the core's connection limit refuses CONNECT
 * ('Bad CONNECT' with RabbitMQ's limit text, not "access denied"), the user's channel limit
 * refuses a SUBSCRIBE (each subscription has a session of its own), the vhost queue limit
 * refuses a SUBSCRIBE that needs a new queue — each an ERROR frame, then close. Frame and
 * header size limits over TCP are in connect.test.ts; here over WebSocket.
 */
import { resetLimits } from '../../helpers/limits.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
const open: RawClient[] = [];
beforeAll(async () => {
  b = await startStompBroker({ max_frame_size: 4096 });
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await resetLimits(b.broker.core);
});
afterAll(async () => {
  await b?.stop();
});

async function login(): Promise<RawClient> {
  const [c] = await RawClient.login(b.tcpPort);
  open.push(c);
  return c;
}

describe('limits', () => {
  it('a CONNECT past the vhost connection limit gets an ERROR with the limit, then the connection closes', async () => {
    await login();
    b.broker.core.limits.setVhostLimits('/', { maxConnections: 1 });
    const c = await RawClient.connect(b.tcpPort);
    open.push(c);
    c.send('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest', host: '/' });
    const f = await c.next();
    expect(f.command).toBe('ERROR');
    expect(f.headers['message']).toBe('Bad CONNECT');
    expect(f.body.toString()).toMatch(/connection limit \(1\) is reached/);
    expect(f.body.toString()).not.toMatch(/access denied/);
    await c.waitClosed();
  });

  it('a vhost the user has no access to is still "access denied"', async () => {
    b.broker.core.addVhost('stomp-bare');
    const c = await RawClient.connect(b.tcpPort);
    open.push(c);
    c.send('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: 'guest', host: 'stomp-bare' });
    const f = await c.next();
    expect(f.headers['message']).toBe('Bad CONNECT');
    expect(f.body.toString()).toMatch(/access denied/);
  });

  it("a SUBSCRIBE past the user's channel limit gets ERROR not_allowed with its receipt", async () => {
    const c = await login(); // holds one session: the one SENDs publish on
    b.broker.core.limits.setUserLimits('guest', { maxChannels: 1 });
    c.send('SUBSCRIBE', { destination: `/queue/${uniqueName('ch')}`, id: 's', receipt: 'r' });
    const f = await c.next();
    expect([f.command, f.headers['message'], f.headers['receipt-id']]).toEqual(['ERROR', 'not_allowed', 'r']);
    expect(f.body.toString()).toMatch(/maximum allowed user limit of \(1\)/);
    await c.waitClosed();
  });

  it('a SUBSCRIBE that needs a queue past the vhost queue limit gets ERROR precondition_failed', async () => {
    const c = await login();
    b.broker.core.limits.setVhostLimits('/', { maxQueues: b.broker.core.vhosts.get('/')!.queues.size });
    c.send('SUBSCRIBE', { destination: `/queue/${uniqueName('q')}`, id: 's', receipt: 'r' });
    const f = await c.next();
    expect([f.command, f.headers['message'], f.headers['receipt-id']]).toEqual(['ERROR', 'precondition_failed', 'r']);
    expect(f.body.toString()).toMatch(/queue limit in vhost '\/' \(\d+\) is reached/);
    await c.waitClosed();
  });

  it('max_frame_size holds over WebSocket too: an oversized frame gets ERROR Frame too large', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}/ws`, ['v12.stomp']);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0');
    ws.send(`SEND\ndestination:/queue/big\n\n${'x'.repeat(4200)}\0`);
    await closed;
    expect(frames[0]).toMatch(/^CONNECTED\n/);
    expect(frames[1]).toMatch(/^ERROR\n(.*\n)*message:Frame too large\n/);
  });
});
