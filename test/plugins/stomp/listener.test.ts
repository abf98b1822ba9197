/**
 * Listener and connection plumbing: backpressure from a slow reader, shutdown telling
 * clients why, many connections, the config keys.
 */
import { describe, expect, it } from 'vitest';
import { eventually, RawClient, startStompBroker, uniqueName } from './helpers.js';

describe('backpressure', () => {
  it('a consumer that does not read stops getting deliveries; they wait in the queue, then all arrive in order', async () => {
    const b = await startStompBroker();
    try {
      const q = uniqueName('slow');
      const count = 1500;
      const body = Buffer.alloc(8192, 0x61).toString();
      const [consumer] = await RawClient.login(b.tcpPort);
      consumer.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', receipt: 'r' }); // ack:auto: nothing else holds them back
      await consumer.until('RECEIPT');
      consumer.socket.pause();

      const [producer] = await RawClient.login(b.tcpPort);
      for (let i = 0; i < count; i++) producer.send('SEND', { destination: `/queue/${q}`, n: String(i) }, body);
      producer.send('SEND', { destination: `/queue/${q}`, receipt: 'done' }, 'last');
      await producer.until('RECEIPT');
      const queue = b.broker.core.vhosts.get('/')!.queues.get(q)!;
      // 12 MB were sent; socket buffers hold a few MB at most, the rest must still be queued
      await new Promise((r) => setTimeout(r, 200));
      expect(queue.messageCount).toBeGreaterThan(count / 3);

      consumer.socket.resume();
      const seen: number[] = [];
      for (;;) {
        const f = await consumer.next(10_000);
        if (f.body.toString() === 'last') break;
        seen.push(Number(f.headers['n']));
      }
      expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(queue.messageCount).toBe(0);
      consumer.close();
      producer.close();
    } finally {
      await b.stop();
    }
  });
});

describe('shutdown and listeners', () => {
  it('stopping the broker sends connection_forced to every client and closes it', async () => {
    const b = await startStompBroker();
    const [c1] = await RawClient.login(b.tcpPort);
    const [c2] = await RawClient.login(b.tcpPort, '1.0');
    await b.stop();
    for (const c of [c1, c2]) {
      const f = await c.next();
      expect(f.command).toBe('ERROR');
      expect(f.headers['message']).toBe('connection_forced');
      expect(f.body.toString()).toContain('shutdown');
      await c.waitClosed();
    }
  });

  it('listens on TCP and WebSocket by default, and either may be turned off', async () => {
    const both = await startStompBroker();
    expect(both.broker.listeners().map((l) => l.name).sort()).toEqual(['stomp', 'stomp-ws']);
    await both.stop();
    const tcpOnly = await startStompBroker({ ws_enabled: false });
    expect(tcpOnly.broker.listeners().map((l) => l.name)).toEqual(['stomp']);
    await tcpOnly.stop();
  });

  it('a port in use fails the start cleanly, naming the cause', async () => {
    const first = await startStompBroker();
    try {
      await expect(startStompBroker({ port: first.tcpPort })).rejects.toThrow(/EADDRINUSE|in use/);
    } finally {
      await first.stop();
    }
  });

  it('serves many connections at once and forgets them when they go', async () => {
    const b = await startStompBroker();
    try {
      const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => RawClient.login(b.tcpPort, ['1.0', '1.1', '1.2'][i % 3])));
      expect(b.broker.core.connections.size).toBe(50);
      const q = uniqueName('many');
      clients[0]![0].send('SUBSCRIBE', { destination: `/queue/${q}`, id: 's', receipt: 'r' });
      await clients[0]![0].until('RECEIPT');
      for (const [c] of clients) c.send('SEND', { destination: `/queue/${q}` }, 'x');
      for (let i = 0; i < 50; i++) expect((await clients[0]![0].next()).command).toBe('MESSAGE');
      for (const [c] of clients) c.close();
      await eventually(() => b.broker.core.connections.size === 0);
    } finally {
      await b.stop();
    }
  });
});
