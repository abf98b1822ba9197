/**
 * A real STOMP client from npm, @stomp/stompjs, over WebSocket (Web-STOMP, path /ws) and
 * over plain TCP: the features an application uses, through the client's own API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Versions, type Client, type IMessage } from '@stomp/stompjs';
import WebSocket from 'ws';
import { eventually, startStompBroker, stompjsClient, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
const clients: Client[] = [];
beforeAll(async () => {
  b = await startStompBroker();
});
afterAll(async () => {
  for (const c of clients) await c.deactivate().catch(() => undefined);
  await b?.stop();
});

async function client(config: Parameters<typeof stompjsClient>[1] = {}, tcp = false): Promise<Client> {
  const c = await stompjsClient(tcp ? b.tcpPort : b.wsPort, config, tcp);
  clients.push(c);
  return c;
}

/** Collect messages of a subscription. */
function inbox(): { messages: IMessage[]; on: (m: IMessage) => void } {
  const messages: IMessage[] = [];
  return { messages, on: (m) => messages.push(m) };
}

async function receipt(c: Client, id: string, send: () => void): Promise<void> {
  const done = new Promise<void>((resolve) => c.watchForReceipt(id, () => resolve()));
  send();
  await done;
}

for (const transport of ['WebSocket', 'TCP'] as const) {
  const tcp = transport === 'TCP';
  describe(`stompjs over ${transport}`, () => {
    it('publishes to a queue and receives, with headers and a text body', async () => {
      const c = await client({}, tcp);
      const q = uniqueName('sj');
      const box = inbox();
      c.subscribe(`/queue/${q}`, box.on, { id: 'sub-1' });
      c.publish({ destination: `/queue/${q}`, body: 'hello stompjs', headers: { 'content-type': 'text/plain', 'x-app': 'test' } });
      await eventually(() => box.messages.length === 1);
      const m = box.messages[0]!;
      expect(m.body).toBe('hello stompjs');
      expect(m.headers['x-app']).toBe('test');
      expect(m.headers['subscription']).toBe('sub-1');
      expect(m.headers['destination']).toBe(`/queue/${q}`);
    });

    it('carries a binary body with NULs unchanged', async () => {
      const c = await client({}, tcp);
      const q = uniqueName('bin');
      const box = inbox();
      c.subscribe(`/queue/${q}`, box.on);
      const bytes = new Uint8Array([0, 255, 0, 1, 2, 0, 0xc3, 0x28]); // not UTF-8
      c.publish({ destination: `/queue/${q}`, binaryBody: bytes, headers: { 'content-type': 'application/octet-stream' } });
      await eventually(() => box.messages.length === 1);
      expect(Buffer.from(box.messages[0]!.binaryBody)).toEqual(Buffer.from(bytes));
    });

    it('topics fan out to every subscriber', async () => {
      const c1 = await client({}, tcp);
      const c2 = await client({}, tcp);
      const key = uniqueName('news').replace(/-/g, '.');
      const [a, z] = [inbox(), inbox()];
      c1.subscribe(`/topic/${key}`, a.on);
      c2.subscribe(`/topic/${key}`, z.on);
      await new Promise((r) => setTimeout(r, 50)); // subscriptions are asynchronous in stompjs
      c1.publish({ destination: `/topic/${key}`, body: 'extra' });
      await eventually(() => a.messages.length === 1 && z.messages.length === 1);
    });

    it('client-individual ack and nack through the message API; receipts with watchForReceipt', async () => {
      const c = await client({}, tcp);
      const q = uniqueName('acks');
      const box = inbox();
      await receipt(c, 'sub', () => c.subscribe(`/queue/${q}`, box.on, { ack: 'client-individual', receipt: 'sub' }));
      await receipt(c, 'pub', () => c.publish({ destination: `/queue/${q}`, body: 'one', headers: { receipt: 'pub' } }));
      await eventually(() => box.messages.length === 1);
      box.messages[0]!.nack({ requeue: 'true' });
      await eventually(() => box.messages.length === 2);
      expect(box.messages[1]!.headers['redelivered']).toBe('true');
      box.messages[1]!.ack();
      await eventually(() => b.broker.core.vhosts.get('/')!.queues.get(q)!.unackedCount === 0);
    });

    it('transactions: begin, publish, commit; abort discards', async () => {
      const c = await client({}, tcp);
      const q = uniqueName('sjtx');
      const box = inbox();
      c.subscribe(`/queue/${q}`, box.on);
      const tx = c.begin();
      c.publish({ destination: `/queue/${q}`, body: 'committed', headers: { transaction: tx.id } });
      const dropped = c.begin();
      c.publish({ destination: `/queue/${q}`, body: 'aborted', headers: { transaction: dropped.id } });
      dropped.abort();
      await new Promise((r) => setTimeout(r, 50));
      expect(box.messages).toHaveLength(0);
      tx.commit();
      await eventually(() => box.messages.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(box.messages.map((m) => m.body)).toEqual(['committed']);
    });

    it('request/reply with a /temp-queue/ reply-to', async () => {
      const server = await client({}, tcp);
      const requester = await client({}, tcp);
      const service = uniqueName('svc');
      server.subscribe(`/queue/${service}`, (m) => {
        server.publish({ destination: m.headers['reply-to']!, body: m.body.toUpperCase(), headers: { 'correlation-id': m.headers['correlation-id']! } });
      });
      const replies: IMessage[] = [];
      requester.onUnhandledMessage = (m) => replies.push(m);
      await new Promise((r) => setTimeout(r, 50));
      requester.publish({ destination: `/queue/${service}`, body: 'ping', headers: { 'reply-to': '/temp-queue/r', 'correlation-id': '42' } });
      await eventually(() => replies.length === 1);
      expect(replies[0]!.body).toBe('PING');
      expect(replies[0]!.headers['correlation-id']).toBe('42');
      expect(replies[0]!.headers['subscription']).toBe('/temp-queue/r');
    });

    it('heart-beats both ways keep an idle connection open', async () => {
      // 300 ms both ways: the broker beats every 300 ms and closes after a check interval
      // (600 ms) without a byte from the client. Shorter intervals close on a loaded machine
      // whose event loop stalls for longer than the tolerance (test, client and broker share
      // one process here). The client's own watch is not under test: it tolerates more.
      const interval = 300;
      let beats = 0;
      const c = await client({ heartbeatIncoming: interval, heartbeatOutgoing: interval, heartbeatToleranceMultiplier: 4, onHeartbeatReceived: () => beats++ }, tcp);
      let closed = false;
      c.onWebSocketClose = () => {
        closed = true;
      };
      // three of the broker's check intervals, idle but for the beats
      await new Promise((r) => setTimeout(r, 6 * interval));
      expect(beats).toBeGreaterThanOrEqual(3);
      expect(closed).toBe(false);
      expect(c.connected).toBe(true);
    });

    it('an ERROR frame reaches onStompError and the server closes', async () => {
      const c = await client({}, tcp);
      const error = new Promise<string>((resolve) => {
        c.onStompError = (f) => resolve(`${f.headers['message']}: ${f.body}`);
      });
      c.publish({ destination: '/exchange/missing-exchange/x', body: 'x', headers: { receipt: 'r' } });
      c.subscribe('/exchange/missing-exchange/x', () => undefined);
      expect(await error).toMatch(/^not_found: NOT_FOUND - no exchange 'missing-exchange'/);
    });
  });
}

describe('WebSocket specifics', () => {
  for (const [versions, expected] of [
    [[Versions.V1_2], '1.2'],
    [[Versions.V1_1], '1.1'],
    [[Versions.V1_0], '1.0'],
  ] as const) {
    it(`negotiates STOMP ${expected} with a client that offers only it`, async () => {
      const c = await client({ stompVersions: new Versions([...versions]) });
      expect(c.connectedVersion).toBe(expected);
      const q = uniqueName('ver');
      const box = inbox();
      c.subscribe(`/queue/${q}`, box.on, { ack: 'client' });
      c.publish({ destination: `/queue/${q}`, body: `v${expected}`, headers: { 'x-colon': 'a:b' } });
      await eventually(() => box.messages.length === 1);
      // the server escapes ':' in 1.1 and 1.2 as the spec says; stompjs unescapes only in 1.2
      expect(box.messages[0]!.headers['x-colon']).toBe(expected === '1.1' ? 'a\\cb' : 'a:b');
      box.messages[0]!.ack();
    });
  }

  it('selects the subprotocol v12.stomp from what the client offers', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}/ws`, ['v10.stomp', 'v11.stomp', 'v12.stomp']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('v12.stomp');
    ws.close();
  });

  it('refuses other paths, and answers plain HTTP with 426', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}/elsewhere`, ['v12.stomp']);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    expect(outcome).not.toBe('open');
    const res = await fetch(`http://127.0.0.1:${b.wsPort}/ws`);
    expect(res.status).toBe(426);
  });

  it('a frame split over several WebSocket messages, and several frames in one, are read', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}/ws`, ['v12.stomp']);
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    const q = uniqueName('wsraw');
    ws.send('CONNECT\naccept-version:1.2\nlogin:gu');
    ws.send(`est\npasscode:guest\n\n\0SUBSCRIBE\ndestination:/queue/${q}\nid:1\n\n\0SEND\ndestination:/queue/${q}\n\nsplit\0`);
    await eventually(() => received.some((r) => r.startsWith('MESSAGE')));
    expect(received[0]).toMatch(/^CONNECTED\n/);
    expect(received.find((r) => r.startsWith('MESSAGE'))).toContain('\n\nsplit\0');
    ws.close();
  });
});
