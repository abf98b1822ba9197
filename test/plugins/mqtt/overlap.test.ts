/**
 * Overlapping subscriptions of one client: a message that matches several of them is
 * delivered once, at the highest QoS granted among the matching ones (as Mosquitto and
 * RabbitMQ deliver), with every matching Subscription Identifier on that one copy (MQTT 5
 * §3.3.4). Shared subscriptions are apart: each group gets its own copy. MQTT.js clients.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker();
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

/** Wait for `n` messages, then a little more, so that a duplicate would have arrived too. */
async function settle(inbox: Inbox, n: number): Promise<void> {
  await inbox.waitFor(n);
  await sleep(150);
}

describe.each([4, 5] as const)('MQTT %s', (protocolVersion) => {
  it('a/# at QoS 0 and a/+ at QoS 1: one copy, at QoS 1; what only a/# matches, once at QoS 0', async () => {
    const sub = await clients.connect({ clientId: `ov-sub-${protocolVersion}`, protocolVersion });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(`ov${protocolVersion}/#`, { qos: 0 });
    await sub.subscribeAsync(`ov${protocolVersion}/+`, { qos: 1 });
    const pub = await clients.connect({ clientId: `ov-pub-${protocolVersion}`, protocolVersion });
    await pub.publishAsync(`ov${protocolVersion}/a`, 'both', { qos: 2 });
    await pub.publishAsync(`ov${protocolVersion}/a/b`, 'hash only', { qos: 1 });
    await pub.publishAsync(`ov${protocolVersion}/c`, 'both, published at QoS 0', { qos: 0 });
    await settle(inbox, 3);
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos]).sort()).toEqual([
      ['both, published at QoS 0', 0],
      ['both', 1],
      ['hash only', 0],
    ]);
  });

  it('overlapping subscriptions of one QoS class (QoS 1 and 2): one copy, at QoS 2', async () => {
    const sub = await clients.connect({ clientId: `ov12-sub-${protocolVersion}`, protocolVersion });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync({ [`ov12-${protocolVersion}/#`]: { qos: 1 }, [`ov12-${protocolVersion}/+/x`]: { qos: 2 } });
    const pub = await clients.connect({ clientId: `ov12-pub-${protocolVersion}`, protocolVersion });
    await pub.publishAsync(`ov12-${protocolVersion}/a/x`, 'two filters', { qos: 2 });
    await settle(inbox, 1);
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos])).toEqual([['two filters', 2]]);
  });

  it('a shared subscription is apart: its group gets a copy besides the client’s own', async () => {
    const sub = await clients.connect({ clientId: `ovs-sub-${protocolVersion}`, protocolVersion });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(`$share/g/ovs${protocolVersion}/+`, { qos: 1 });
    await sub.subscribeAsync(`ovs${protocolVersion}/#`, { qos: 0 });
    const pub = await clients.connect({ clientId: `ovs-pub-${protocolVersion}`, protocolVersion });
    await pub.publishAsync(`ovs${protocolVersion}/a`, 'shared and own', { qos: 1 });
    await settle(inbox, 2);
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos]).sort()).toEqual([
      ['shared and own', 0],
      ['shared and own', 1],
    ]);
  });
});

describe('MQTT 5', () => {
  it('the one copy lists the Subscription Identifiers of every matching subscription', async () => {
    const sub = await clients.connect({ clientId: 'ov-ids', protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('ovid/#', { qos: 0, properties: { subscriptionIdentifier: 11 } });
    await sub.subscribeAsync('ovid/+', { qos: 1, properties: { subscriptionIdentifier: 22 } });
    await sub.subscribeAsync('ovid/+/deep', { qos: 2, properties: { subscriptionIdentifier: 33 } });
    const pub = await clients.connect({ clientId: 'ov-ids-pub', protocolVersion: 5 });
    await pub.publishAsync('ovid/a', 'two', { qos: 2 });
    await pub.publishAsync('ovid/a/deep', 'also two', { qos: 2 });
    await settle(inbox, 2);
    const byPayload = Object.fromEntries(inbox.messages.map((m) => [m.payload, m.packet]));
    expect(inbox.messages).toHaveLength(2);
    expect(byPayload['two'].qos).toBe(1);
    expect([byPayload['two'].properties?.subscriptionIdentifier].flat().sort()).toEqual([11, 22]);
    expect(byPayload['also two'].qos).toBe(2);
    expect([byPayload['also two'].properties?.subscriptionIdentifier].flat().sort()).toEqual([11, 33]);
  });

  it('no local leaves out its own subscription, not the others: the copy of the remaining one comes', async () => {
    const c = await clients.connect({ clientId: 'ov-nl', protocolVersion: 5 });
    const inbox = new Inbox(c);
    await c.subscribeAsync('ovnl/#', { qos: 0, properties: { subscriptionIdentifier: 1 } });
    await c.subscribeAsync('ovnl/+', { qos: 1, nl: true, properties: { subscriptionIdentifier: 2 } });
    await c.publishAsync('ovnl/own', 'mine', { qos: 1 });
    await settle(inbox, 1);
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos, m.packet.properties?.subscriptionIdentifier])).toEqual([['mine', 0, 1]]);
  });
});
