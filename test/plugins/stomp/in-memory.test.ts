/**
 * The STOMP front-end over an in-memory stream pair (`Broker.accept`), no socket: CONNECT,
 * a SEND consumed by a SUBSCRIBE, a bad frame, and the graceful stop's ERROR, driven by raw
 * frame bytes (test/plugins/stomp/helpers.ts RawClient). The socket tests cover the same over
 * TCP and WebSocket; these show the connection needs nothing of a socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryConnection } from '../../helpers/memory-pair.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';
import { RawClient } from './helpers.js';

let b: ThreeProtocolBroker;
beforeAll(async () => {
  b = await startThreeProtocols();
});
afterAll(async () => {
  await b?.stop();
});

const inMemoryClient = (broker = b) => RawClient.over(inMemoryConnection(broker.broker, 'stomp'));

describe('STOMP over an in-memory stream', () => {
  it('connects, and a SEND reaches a SUBSCRIBE on the same connection', async () => {
    const c = inMemoryClient();
    c.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    const connected = await c.next();
    expect(connected.command).toBe('CONNECTED');
    expect(connected.headers['version']).toBe('1.2');
    c.send('SUBSCRIBE', { destination: '/queue/in-memory-stomp', id: 's1', receipt: 'r1' });
    expect((await c.next()).headers['receipt-id']).toBe('r1');
    c.send('SEND', { destination: '/queue/in-memory-stomp', 'content-type': 'text/plain' }, 'over a duplex pair');
    const message = await c.next();
    expect(message.command).toBe('MESSAGE');
    expect(message.headers['subscription']).toBe('s1');
    expect(message.body.toString()).toBe('over a duplex pair');
    c.send('DISCONNECT', { receipt: 'bye' });
    expect((await c.next()).headers['receipt-id']).toBe('bye');
    await c.waitClosed();
  });

  it('a frame before CONNECT: ERROR, then the stream ends', async () => {
    const c = inMemoryClient();
    c.send('SEND', { destination: '/queue/x' }, 'too early');
    const error = await c.next();
    expect(error.command).toBe('ERROR');
    expect(error.headers['message']).toBe('Illegal command');
    await c.waitClosed();
  });

  it('stopping the broker tells an in-memory client why (ERROR connection_forced)', async () => {
    const own = await startThreeProtocols();
    const c = inMemoryClient(own);
    c.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
    expect((await c.next()).command).toBe('CONNECTED');
    await own.stop();
    const error = await c.next();
    expect(error.command).toBe('ERROR');
    expect(error.headers['message']).toBe('connection_forced');
    await c.waitClosed();
  });
});
