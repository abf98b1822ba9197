/**
 * Publish/subscribe with MQTT.js over TCP and WebSocket, MQTT 3.1.1 and 5.0: QoS 0, 1 and 2
 * both ways, wildcards, '$' topics, overlapping subscriptions, unsubscribe.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, closed, Inbox, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker();
});
afterAll(async () => {
  await b?.stop();
});

const variants = [
  { name: 'MQTT 3.1.1 over TCP', version: 4 as const, ws: false },
  { name: 'MQTT 5.0 over TCP', version: 5 as const, ws: false },
  { name: 'MQTT 3.1.1 over WebSocket', version: 4 as const, ws: true },
  { name: 'MQTT 5.0 over WebSocket', version: 5 as const, ws: true },
];

describe.each(variants)('$name', ({ version, ws }) => {
  let clients: Clients;
  let n = 0;
  const id = (what: string) => `${what}-${version}-${ws ? 'ws' : 'tcp'}-${++n}`;
  const connect = (clientId: string, extra = {}): Promise<MqttClient> =>
    clients.connect({ clientId, protocolVersion: version, ...extra }, ws ? b.wsUrl : b.url);

  beforeAll(() => {
    clients = new Clients(b.url);
  });
  afterEach(async () => {
    await clients.closeAll();
  });

  for (const qos of [0, 1, 2] as const) {
    it(`QoS ${qos}: publish and receive at QoS ${qos}`, async () => {
      const t = id(`qos${qos}`);
      const sub = await connect(`${t}-sub`);
      const inbox = new Inbox(sub);
      const granted = await sub.subscribeAsync(`${t}/#`, { qos });
      expect(granted[0].qos).toBe(qos);
      const pub = await connect(`${t}-pub`);
      for (let i = 0; i < 20; i++) await pub.publishAsync(`${t}/x/${i}`, `m${i}`, { qos });
      await inbox.waitFor(20);
      expect(inbox.payloads).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(inbox.messages.every((m) => m.packet.qos === qos)).toBe(true);
      expect(inbox.messages[3].topic).toBe(`${t}/x/3`);
    });
  }

  it('delivers at the lower of the publish and subscription QoS (MQTT-3.8.4-8)', async () => {
    const t = id('downgrade');
    const sub1 = await connect(`${t}-s1`);
    const sub2 = await connect(`${t}-s2`);
    const in1 = new Inbox(sub1);
    const in2 = new Inbox(sub2);
    await sub1.subscribeAsync(t, { qos: 1 });
    await sub2.subscribeAsync(t, { qos: 2 });
    const pub = await connect(`${t}-p`);
    await pub.publishAsync(t, 'two', { qos: 2 });
    await pub.publishAsync(t, 'zero', { qos: 0 });
    await in1.waitFor(2);
    await in2.waitFor(2);
    expect(in1.messages.map((m) => [m.payload, m.packet.qos])).toEqual([['two', 1], ['zero', 0]]);
    expect(in2.messages.map((m) => [m.payload, m.packet.qos])).toEqual([['two', 2], ['zero', 0]]);
  });

  it('matches + and # wildcards, and # matches the parent level', async () => {
    const t = id('wild');
    const sub = await connect(`${t}-sub`);
    const plus = new Inbox(sub);
    await sub.subscribeAsync([`${t}/+/temp`, `${t}/all/#`], { qos: 1 });
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(`${t}/kitchen/temp`, '1', { qos: 1 });
    await pub.publishAsync(`${t}/kitchen/humidity`, 'no', { qos: 1 });
    await pub.publishAsync(`${t}/a/b/temp`, 'no', { qos: 1 });
    await pub.publishAsync(`${t}/all`, '2', { qos: 1 });
    await pub.publishAsync(`${t}/all/x/y/z`, '3', { qos: 1 });
    // the subscriptions' one QoS 1 queue delivers in order: a wrong match would come before the marker
    await pub.publishAsync(`${t}/all/marker`, 'marker', { qos: 1 });
    await plus.waitFor(4);
    expect(plus.payloads).toEqual(['1', '2', '3', 'marker']);
  });

  it("does not match '$' topics with a wildcard at the root (MQTT-4.7.2-1)", async () => {
    const t = id('dollar');
    const root = await connect(`${t}-root`);
    const explicit = await connect(`${t}-explicit`);
    const rootInbox = new Inbox(root);
    const explicitInbox = new Inbox(explicit);
    await root.subscribeAsync(['#', '+/x'], { qos: 1 });
    await explicit.subscribeAsync(`$${t}/#`, { qos: 1 });
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(`$${t}/x`, 'dollar', { qos: 1 });
    await pub.publishAsync(`${t}/x`, 'plain', { qos: 1 });
    await pub.publishAsync(`$${t}/marker`, 'marker', { qos: 1 });
    // each subscriber's QoS 1 queue delivers in order: 'dollar' at the root would come before
    // 'plain', 'plain' at the explicit one before its marker
    await explicitInbox.waitFor(2);
    await rootInbox.waitFor(1);
    expect(explicitInbox.payloads).toEqual(['dollar', 'marker']);
    expect(rootInbox.messages.filter((m) => m.topic.includes(t)).map((m) => m.payload)).toEqual(['plain']);
  });

  it('sends one copy for overlapping subscriptions of one QoS class', async () => {
    const t = id('overlap');
    const sub = await connect(`${t}-sub`);
    const inbox = new Inbox(sub);
    await sub.subscribeAsync([`${t}/#`, `${t}/+`], { qos: 1 });
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(`${t}/a`, 'once', { qos: 1 });
    // a second copy would be in the same QoS 1 queue, before the marker
    await pub.publishAsync(`${t}/marker`, 'marker', { qos: 1 });
    await inbox.waitFor(2);
    expect(inbox.payloads).toEqual(['once', 'marker']);
  });

  it('stops delivering after UNSUBSCRIBE, keeping the other subscriptions', async () => {
    const t = id('unsub');
    const sub = await connect(`${t}-sub`);
    const inbox = new Inbox(sub);
    await sub.subscribeAsync([`${t}/a`, `${t}/b`], { qos: 1 });
    await sub.unsubscribeAsync(`${t}/a`);
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(`${t}/a`, 'gone', { qos: 1 });
    await pub.publishAsync(`${t}/b`, 'kept', { qos: 1 });
    // one QoS 1 queue for both filters: 'gone', routed first, would have come before 'kept'
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['kept']);
  });

  it('replaces a subscription when the same filter is subscribed again (MQTT-3.8.4-3)', async () => {
    const t = id('resub');
    const sub = await connect(`${t}-sub`);
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(t, { qos: 0 });
    await sub.subscribeAsync(t, { qos: 2 });
    // a QoS 0 filter of its own: its marker follows, in the QoS 0 queue, any copy the replaced subscription would send
    await sub.subscribeAsync(`${t}/marker`, { qos: 0 });
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(t, 'x', { qos: 2 });
    await pub.publishAsync(`${t}/marker`, 'marker', { qos: 0 });
    await inbox.waitFor(2);
    const x = inbox.messages.filter((m) => m.payload === 'x');
    expect(x.map((m) => m.packet.qos)).toEqual([2]);
    expect(inbox.messages.findIndex((m) => m.payload === 'marker')).toBeGreaterThanOrEqual(0);
  });

  it('closes a client that publishes to an invalid topic, others carry on', async () => {
    const t = id('badtopic');
    const good = await connect(`${t}-good`);
    const inbox = new Inbox(good);
    await good.subscribeAsync(`${t}/ok`, { qos: 1 });
    const bad = await connect(`${t}-bad`);
    const gone = closed(bad);
    // MQTT.js validates topics itself; write the packet past it
    (bad as unknown as { _sendPacket: (p: object, cb: () => void) => void })._sendPacket(
      { cmd: 'publish', topic: `${t}/+`, payload: Buffer.from('x'), qos: 0, retain: false, dup: false },
      () => {},
    );
    expect(await gone).toBe(true);
    const pub = await connect(`${t}-pub`);
    await pub.publishAsync(`${t}/ok`, 'still fine', { qos: 1 });
    await inbox.waitFor(1);
  });
});

describe('across transports', () => {
  it('a TCP publisher reaches a WebSocket subscriber and the other way round', async () => {
    const clients = new Clients(b.url);
    try {
      const wsSub = await clients.connect({ clientId: 'x-ws-sub' }, b.wsUrl);
      const tcpSub = await clients.connect({ clientId: 'x-tcp-sub', protocolVersion: 5 });
      const wsInbox = new Inbox(wsSub);
      const tcpInbox = new Inbox(tcpSub);
      await wsSub.subscribeAsync('cross/tcp', { qos: 1 });
      await tcpSub.subscribeAsync('cross/ws', { qos: 1 });
      const tcpPub = await clients.connect({ clientId: 'x-tcp-pub' });
      const wsPub = await clients.connect({ clientId: 'x-ws-pub', protocolVersion: 5 }, b.wsUrl);
      await tcpPub.publishAsync('cross/tcp', 'from tcp', { qos: 1 });
      await wsPub.publishAsync('cross/ws', 'from ws', { qos: 1 });
      await wsInbox.waitFor(1);
      await tcpInbox.waitFor(1);
      expect(wsInbox.payloads).toEqual(['from tcp']);
      expect(tcpInbox.payloads).toEqual(['from ws']);
    } finally {
      await clients.closeAll();
    }
  });
});
