/**
 * The confirm rule for definitions: a reply that promises a durable definition — AMQP
 * declare-ok/bind-ok, a persistent MQTT session's SUBACK, a STOMP SUBSCRIBE's RECEIPT, a
 * management API PUT — goes out only once every in-sync follower has the change (after its
 * own fdatasync: the follower's syncs are held here, so a reply given on the leader's disk
 * alone is caught) — and so does a retained QoS 1 PUBACK with the sqlite retained store —
 * and no later reply on the AMQP connection overtakes it. With fewer than
 * minIsr nodes in sync a declare waits, then is refused (541, the connection closed), as a
 * publish's confirm is; the definition stays on the leader and the broker carries on.
 */
import { connect as tcpConnect } from 'node:net';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/broker.js';
import { removeTempDirs, startFollower, startLeader, syncGate, tempDir, until } from './helpers.js';

afterEach(removeTempDirs);

/** long enough, on a loaded machine, for an early reply to arrive */
const EARLY_WINDOW_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const local = { port: 0, host: '127.0.0.1' };
const plugins = { mqtt: local, stomp: local, management: local };

/** A STOMP 1.2 client on a raw socket: CONNECT, then SUBSCRIBE with a receipt; resolves with the RECEIPT's id. */
function stompSubscribeReceipt(b: Broker, destination: string): { receipt: Promise<string>; close(): void } {
  const a = b.address('stomp');
  const s = tcpConnect(a.port, a.host);
  let text = '';
  const receipt = new Promise<string>((resolve, reject) => {
    s.on('data', (d) => {
      text += d.toString();
      if (text.includes('CONNECTED') && !text.includes('SUBSCRIBE-SENT')) {
        text += 'SUBSCRIBE-SENT';
        s.write(`SUBSCRIBE\nid:0\ndestination:${destination}\nack:client-individual\nreceipt:sub-1\n\n\0`);
      }
      const m = /RECEIPT\nreceipt-id:([^\n]*)/.exec(text);
      if (m) resolve(m[1]!);
      if (text.includes('ERROR')) reject(new Error(text));
    });
    s.on('error', reject);
  });
  s.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  return { receipt, close: () => s.destroy() };
}

function management(b: Broker, method: string, path: string, body: unknown): Promise<Response> {
  const a = b.address('management');
  return fetch(`http://${a.host}:${a.port}${path}`, {
    method, body: JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
  });
}

describe('confirm rule for definitions', () => {
  it('declare-ok, bind-ok, SUBACK, RECEIPT and API PUT wait for the in-sync follower; later replies do not overtake', async () => {
    const l = await startLeader({ minIsr: 2 }, plugins);
    const sync = syncGate();
    const g = await startFollower(l.address, await tempDir('warren-follower-'), 'f1', { beforeSync: sync.beforeSync });
    l.leader.setIsr(['f1']);
    const conn = await amqp.connect(l.amqpUrl);
    const mqttUrl = `mqtt://${l.broker.address('mqtt').host}:${l.broker.address('mqtt').port}`;
    const device = await mqtt.connectAsync(mqttUrl, { clientId: 'def-device', clean: false, username: 'guest', password: 'guest', protocolVersion: 4 });
    const cleanDevice = await mqtt.connectAsync(mqttUrl, { clientId: 'def-clean', clean: true, username: 'guest', password: 'guest', protocolVersion: 4 });
    let stomp: ReturnType<typeof stompSubscribeReceipt> | null = null;
    try {
      const ch = await conn.createChannel();
      const other = await conn.createChannel();
      const events: string[] = [];
      const seen = (what: string) => () => void events.push(what);
      sync.close();
      const declared = ch.assertQueue('def-held', { durable: true }).then(seen('declare-ok'));
      const qos = other.prefetch(5).then(seen('qos-ok on another channel'));
      const subscribed = device.subscribeAsync('def/t', { qos: 1 }).then(seen('suback'));
      const cleanSubscribed = cleanDevice.subscribeAsync('def/clean', { qos: 1 }).then(seen('suback of a clean session'));
      stomp = stompSubscribeReceipt(l.broker, '/queue/def-stomp');
      const receipt = stomp.receipt.then(seen('receipt'));
      const put = management(l.broker, 'PUT', '/api/queues/%2F/def-api', { durable: true }).then((r) => {
        events.push(`api ${r.status}`);
      });
      await until(() => sync.held > 0, 'the follower to hold a sync');
      await sleep(EARLY_WINDOW_MS);
      // a clean session's subscription is not durable: its SUBACK needs no replica
      expect(events, 'replies seen while the follower had not synced').toEqual(['suback of a clean session']);
      sync.open();
      await Promise.all([declared, qos, subscribed, cleanSubscribed, receipt, put]);
      expect(events.indexOf('declare-ok')).toBeLessThan(events.indexOf('qos-ok on another channel'));
      expect(events).toContain('suback');
      expect(events).toContain('receipt');
      expect(events).toContain('api 201');

      // a bind waits likewise
      sync.close();
      let bound = false;
      const bind = ch.bindQueue('def-held', 'amq.direct', 'k').then(() => void (bound = true));
      await until(() => sync.held > 1, 'the follower to hold another sync');
      await sleep(EARLY_WINDOW_MS);
      expect(bound, 'bind-ok seen while the follower had not synced').toBe(false);
      sync.open();
      await bind;
    } finally {
      sync.open();
      stomp?.close();
      await device.endAsync().catch(() => undefined);
      await cleanDevice.endAsync().catch(() => undefined);
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await g.stop();
      await l.leader.close();
    }
  }, 60_000);

  it('a retained QoS 1 PUBACK with the sqlite retained store waits for the in-sync follower', async () => {
    const l = await startLeader({ minIsr: 2 }, { mqtt: { ...local, retained_message_store: 'sqlite' } });
    const sync = syncGate();
    const g = await startFollower(l.address, await tempDir('warren-follower-'), 'f1', { beforeSync: sync.beforeSync });
    l.leader.setIsr(['f1']);
    const a = l.broker.address('mqtt');
    const publisher = await mqtt.connectAsync(`mqtt://${a.host}:${a.port}`, { clientId: 'def-retainer', username: 'guest', password: 'guest', protocolVersion: 4 });
    try {
      sync.close();
      let acked = false;
      // no subscriber: the message goes to no queue, only the retained store waits
      const puback = publisher.publishAsync('def/retained', 'kept', { qos: 1, retain: true }).then(() => void (acked = true));
      await until(() => sync.held > 0, 'the follower to hold a sync');
      await sleep(EARLY_WINDOW_MS);
      expect(acked, 'PUBACK seen while the follower had not synced').toBe(false);
      sync.open();
      await puback;
    } finally {
      sync.open();
      await publisher.endAsync().catch(() => undefined);
      await l.broker.stop();
      await g.stop();
      await l.leader.close();
    }
  }, 60_000);

  it('below minIsr a declare waits, then is refused (541); the definition stays and the broker carries on', async () => {
    const l = await startLeader({ minIsr: 2, refuseAfterMs: 1500 });
    const conn = await amqp.connect(l.amqpUrl);
    const closedWith = new Promise<string>((resolve) => conn.on('error', (e: Error) => resolve(e.message)));
    try {
      const ch = await conn.createChannel();
      const t0 = Date.now();
      const outcome = await ch.assertQueue('def-lonely', { durable: true }).then(() => 'declare-ok', (e: Error) => `refused: ${e.message}`);
      const after = Date.now() - t0;
      expect(outcome).toMatch(/refused/);
      expect(await closedWith).toMatch(/541/);
      expect(after).toBeGreaterThanOrEqual(1400);
      expect(l.broker.core.vhosts.get('/')!.queues.get('def-lonely')?.durable).toBe(true);
      // with a follower in sync again, declares are answered
      const f = await startFollower(l.address, await tempDir('warren-follower-'));
      l.leader.setIsr(['f1']);
      const again = await amqp.connect(l.amqpUrl);
      const ch2 = await again.createChannel();
      expect((await ch2.assertQueue('def-lonely', { durable: true })).queue).toBe('def-lonely');
      await again.close();
      await f.stop();
    } finally {
      await conn.close().catch(() => undefined);
      await l.broker.stop();
      await l.leader.close();
    }
  }, 60_000);
});
