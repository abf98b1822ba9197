/**
 * CONNECT and bad input over raw TCP: version negotiation, login, virtual hosts, CONNECTED
 * headers, and every kind of bad input answered with an ERROR frame and a close, while
 * the broker and the other clients carry on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startStompBroker, uniqueName, type RawFrame, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker({ max_frame_size: 8192, max_headers: 20, max_header_length: 512 });
  b.broker.core.users.add('alice', 'secret');
  b.broker.core.addVhost('other');
  b.broker.core.users.setPermissions('alice', 'other', { configure: '.*', write: '.*', read: '.*' });
});
afterAll(async () => {
  await b?.stop();
});

/** Send raw bytes on a fresh connection and return the ERROR frame; the server must then close. */
async function errorFor(bytes: string | Buffer, login = true): Promise<RawFrame> {
  const c = login ? (await RawClient.login(b.tcpPort))[0] : await RawClient.connect(b.tcpPort);
  c.write(bytes);
  const frames = await c.until('ERROR');
  await c.waitClosed();
  return frames[frames.length - 1]!;
}

describe('version negotiation', () => {
  it('picks the highest common version', async () => {
    for (const [offer, chosen] of [
      ['1.0,1.1,1.2', '1.2'],
      ['1.1', '1.1'],
      ['1.0', '1.0'],
      ['1.1,1.0', '1.1'],
      ['1.2,2.0', '1.2'],
    ]) {
      const c = await RawClient.connect(b.tcpPort);
      c.send('CONNECT', { 'accept-version': offer!, login: 'guest', passcode: 'guest' });
      const f = await c.next();
      expect(f.command, offer).toBe('CONNECTED');
      expect(f.headers['version'], offer).toBe(chosen);
      c.close();
    }
  });

  it('speaks 1.0 to a client that sends no accept-version, and accepts STOMP as CONNECT', async () => {
    const c = await RawClient.connect(b.tcpPort);
    c.send('CONNECT', { login: 'guest', passcode: 'guest' });
    const f = await c.next();
    expect(f.headers['version']).toBe('1.0');
    expect(f.headers['heart-beat']).toBeUndefined();
    c.close();
    const d = await RawClient.connect(b.tcpPort);
    d.send('STOMP', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    expect((await d.next()).headers['version']).toBe('1.2');
    d.close();
  });

  it('refuses a client with no version in common: ERROR listing ours, then close', async () => {
    const f = await errorFor('CONNECT\naccept-version:2.0,3.1\n\n\0', false);
    expect(f.headers['message']).toBe('Version mismatch');
    expect(f.headers['version']).toBe('1.0,1.1,1.2');
    expect(f.body.toString()).toContain('Supported protocol versions are 1.0,1.1,1.2');
  });

  it('CONNECTED carries version, session, server and heart-beat', async () => {
    const [c, f] = await RawClient.login(b.tcpPort, '1.2');
    expect(f.headers['server']).toMatch(/^Warren\//);
    expect(f.headers['session']).toMatch(/^session-\d+$/);
    expect(f.headers['heart-beat']).toBe('0,0');
    c.close();
  });
});

describe('login and virtual hosts', () => {
  it('logs in a user of the broker, in the vhost named by host', async () => {
    const [c] = await RawClient.login(b.tcpPort, '1.2', { login: 'alice', passcode: 'secret', host: 'other' });
    const q = uniqueName('vh');
    c.send('SEND', { destination: `/queue/${q}`, receipt: 'r' }, 'x');
    await c.until('RECEIPT');
    expect(b.broker.core.vhosts.get('other')!.queues.has(q)).toBe(true);
    expect(b.broker.core.vhosts.get('/')!.queues.has(q)).toBe(false);
    c.close();
  });

  it('uses the default user (guest) when CONNECT has no login, as RabbitMQ does', async () => {
    const c = await RawClient.connect(b.tcpPort);
    c.send('CONNECT', { 'accept-version': '1.2' });
    expect((await c.next()).command).toBe('CONNECTED');
    c.close();
  });

  it('refuses a wrong passcode', async () => {
    const f = await errorFor('CONNECT\naccept-version:1.2\nlogin:alice\npasscode:wrong\n\n\0', false);
    expect(f.headers['message']).toBe('Bad CONNECT'); // RabbitMQ's wording
    expect(f.body.toString()).toContain("Access refused for user 'alice'");
  });

  // a host naming no vhost, and stomp.host_must_name_vhost: host-header.test.ts
  it('refuses a vhost the user has no access to', async () => {
    const g = await errorFor('CONNECT\naccept-version:1.2\nhost:/\nlogin:alice\npasscode:secret\n\n\0', false);
    expect(g.headers['message']).toBe('Bad CONNECT');
    expect(g.body.toString()).toContain("access to vhost '/' refused for user 'alice'");
  });

  it('enforces permissions: a user without write access gets access_refused on SEND', async () => {
    b.broker.core.users.add('reader', 'pw');
    b.broker.core.users.setPermissions('reader', '/', { configure: '.*', write: '^$', read: '.*' });
    const [c] = await RawClient.login(b.tcpPort, '1.2', { login: 'reader', passcode: 'pw' });
    c.send('SEND', { destination: '/topic/x', receipt: 'r1' }, 'x');
    const f = (await c.until('ERROR')).pop()!;
    expect(f.headers['message']).toBe('access_refused');
    expect(f.headers['receipt-id']).toBe('r1');
    await c.waitClosed();
  });
});

describe('bad input: ERROR with a readable message, then close; others carry on', () => {
  it('a frame before CONNECT', async () => {
    const f = await errorFor('SEND\ndestination:/queue/a\n\nx\0', false);
    expect(f.headers['message']).toBe('Illegal command');
    expect(f.body.toString()).toContain('CONNECT');
  });

  it('an unknown command', async () => {
    const f = await errorFor('FLY\nreceipt:r7\n\n\0');
    expect(f.headers['message']).toBe('Bad command');
    expect(f.headers['receipt-id']).toBe('r7');
    expect(f.body.toString()).toContain('FLY');
  });

  it('a second CONNECT', async () => {
    const f = await errorFor('CONNECT\naccept-version:1.2\n\n\0');
    expect(f.headers['message']).toBe('Already connected');
  });

  it('missing required headers, with receipt-id when the frame had a receipt', async () => {
    const cases: [string, string][] = [
      ['SEND\nreceipt:a\n\nx\0', "'destination'"],
      ['SUBSCRIBE\nreceipt:a\nid:1\n\n\0', "'destination'"],
      ['SUBSCRIBE\nreceipt:a\ndestination:/queue/q\n\n\0', "'id'"],
      ['UNSUBSCRIBE\nreceipt:a\n\n\0', "'id'"],
      ['ACK\nreceipt:a\n\n\0', "'id'"],
      ['NACK\nreceipt:a\n\n\0', "'id'"],
      ['BEGIN\nreceipt:a\n\n\0', "'transaction'"],
      ['COMMIT\nreceipt:a\n\n\0', "'transaction'"],
      ['ABORT\nreceipt:a\n\n\0', "'transaction'"],
    ];
    for (const [bytes, header] of cases) {
      const f = await errorFor(bytes);
      expect(f.headers['message'], bytes).toBe('Missing header');
      expect(f.headers['receipt-id'], bytes).toBe('a');
      expect(f.body.toString(), bytes).toContain(header);
    }
  });

  it('an oversized frame, too many headers, an over-long header', async () => {
    const big = await errorFor(`SEND\ndestination:/queue/a\ncontent-length:9000\n\n${'x'.repeat(9000)}\0`);
    expect(big.headers['message']).toBe('Frame too large');
    const unterminated = await errorFor(`SEND\ndestination:/queue/a\n\n${'x'.repeat(9000)}`);
    expect(unterminated.headers['message']).toBe('Frame too large');
    const many = await errorFor('SEND\n' + Array.from({ length: 25 }, (_, i) => `h${i}:v`).join('\n') + '\n\n\0');
    expect(many.headers['message']).toBe('Too many headers');
    const long = await errorFor(`SEND\nx:${'y'.repeat(600)}\n\n\0`);
    expect(long.headers['message']).toBe('Header too long');
  });

  it('bad escapes, headers without a colon, a bad content-length', async () => {
    expect((await errorFor('SEND\ndestination:/queue/a\nx:\\t\n\n\0')).headers['message']).toBe('Bad header');
    expect((await errorFor('SEND\ndestination:/queue/a\nnocolon\n\n\0')).headers['message']).toBe('Bad header');
    expect((await errorFor('SEND\ncontent-length:x\n\n\0')).headers['message']).toBe('Invalid content-length');
  });

  it('a connection that never sends CONNECT is closed after login_timeout', async () => {
    const strict = await startStompBroker({ login_timeout: 150 });
    try {
      const c = await RawClient.connect(strict.tcpPort);
      const f = await c.next(2000);
      expect(f.headers['message']).toBe('Login timeout');
      await c.waitClosed();
      const [ok] = await RawClient.login(strict.tcpPort);
      await new Promise((r) => setTimeout(r, 300));
      expect(ok.closed).toBe(false);
      ok.close();
    } finally {
      await strict.stop();
    }
  });

  it('a client that was not the culprit keeps working through all of it', async () => {
    const [good] = await RawClient.login(b.tcpPort);
    const q = uniqueName('survivor');
    good.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's' });
    await Promise.all([errorFor('FLY\n\n\0'), errorFor('SEND\n\n\0', false), errorFor('\x00\x01\x02garbage\n\n\0')]);
    good.send('SEND', { destination: `/queue/${q}` }, 'still here');
    expect((await good.next()).body.toString()).toBe('still here');
    good.close();
  });
});
