/**
 * What survives a broker restart on the same data directory: persistent sessions (their
 * subscriptions with every option, queued QoS ≥ 1 messages, unacknowledged deliveries),
 * session expiry and clean start still ending them, and retained messages (wildcards,
 * MQTT 5 properties, clearing, expiry). Each test starts its own broker and restarts it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker | null = null;
let clients: Clients[] = [];
afterEach(async () => {
  for (const c of clients) await c.closeAll();
  clients = [];
  await b?.stop();
  b = null;
});

async function start(mqtt: Record<string, number | string | boolean> = {}): Promise<MqttTestBroker> {
  b = await startMqttBroker(mqtt);
  return b;
}

/** MQTT.js clients for the broker as it is now (a restart needs new ones: the port stays, the old sockets do not). */
function clientsOf(broker: MqttTestBroker): Clients {
  const c = new Clients(broker.url);
  clients.push(c);
  return c;
}

async function restart(broker: MqttTestBroker): Promise<Clients> {
  for (const c of clients) await c.closeAll();
  await broker.restart();
  return clientsOf(broker);
}

const queueOf = (broker: MqttTestBroker, name: string) => broker.broker.core.vhosts.get('/')!.queues.get(name);

describe.each([4, 5] as const)('a persistent MQTT %s session across a restart', (version) => {
  const persistent = (clientId: string) =>
    version === 5
      ? { clientId, protocolVersion: version, clean: false, properties: { sessionExpiryInterval: 3600 } }
      : { clientId, protocolVersion: version, clean: false };

  it('comes back present, with its subscriptions of each QoS, and delivers what was queued and what comes next', async () => {
    const broker = await start();
    const before = clientsOf(broker);
    const id = `multi-${version}`;
    const first = await before.connect(persistent(id));
    await first.subscribeAsync({ [`${id}/zero`]: { qos: 0 }, [`${id}/one/+`]: { qos: 1 }, [`${id}/two/#`]: { qos: 2 } });
    await first.endAsync();
    const pub = await before.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/one/a`, 'queued-1', { qos: 1 });
    await pub.publishAsync(`${id}/two/b/c`, 'queued-2', { qos: 2 });

    const after = await restart(broker);
    const [c, connack, inbox] = await after.connectWithConnack(persistent(id));
    expect(connack.sessionPresent).toBe(true);
    await inbox.waitFor(2);
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos])).toEqual([
      ['queued-1', 1],
      ['queued-2', 2],
    ]);
    const pub2 = await after.connect({ clientId: `${id}-pub2`, protocolVersion: version });
    await pub2.publishAsync(`${id}/zero`, 'live-0', { qos: 1 });
    await pub2.publishAsync(`${id}/one/x`, 'live-1', { qos: 2 });
    await pub2.publishAsync(`${id}/two`, 'live-2', { qos: 2 }); // '#' matches its parent level too
    await pub2.publishAsync(`${id}/elsewhere`, 'not subscribed', { qos: 1 });
    await inbox.waitFor(5);
    await sleep(100);
    // delivered QoS = the lower of the publish's and the subscription's (MQTT-3.8.4-8)
    expect(inbox.messages.slice(2).map((m) => [m.payload, m.packet.qos])).toEqual([
      ['live-0', 0],
      ['live-1', 1],
      ['live-2', 2],
    ]);

    // the rebuilt subscriptions can be dropped: UNSUBSCRIBE removes exactly their bindings
    await c.unsubscribeAsync([`${id}/one/+`, `${id}/two/#`]);
    expect(queueOf(broker, `mqtt-subscription-${id}qos1`)?.inbound.size).toBe(0);
    await pub2.publishAsync(`${id}/one/y`, 'after unsubscribe', { qos: 1 });
    await sleep(100);
    expect(inbox.messages).toHaveLength(5);
  });

  it('redelivers a delivery left unacknowledged at the restart, with dup set', async () => {
    const broker = await start();
    const before = clientsOf(broker);
    const id = `inflight-${version}`;
    const connect = { ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: id, clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) };
    const raw = await RawClient.open(broker.tcpPort, version);
    raw.send(connect, version);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${id}/t`, qos: 1 }] }, version);
    await raw.next('suback');
    const pub = await before.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/t`, 'never acked', { qos: 1 });
    const first = (await raw.next('publish')) as IPublishPacket;
    expect(first.dup).toBe(false);

    await restart(broker);
    expect(await raw.waitClosed()).toBe(true);
    const again = await RawClient.open(broker.tcpPort, version);
    again.send(connect, version);
    expect((await again.next('connack')).sessionPresent).toBe(true);
    const resent = (await again.next('publish')) as IPublishPacket;
    expect(resent.payload.toString()).toBe('never acked');
    expect(resent.dup).toBe(true);
    again.send({ cmd: 'puback', messageId: resent.messageId }, version);
    // the PUBACK has no answer: the queue shows when it was read
    for (const deadline = Date.now() + 5000; (queueOf(broker, `mqtt-subscription-${id}qos1`)?.unackedCount ?? 0) > 0 && Date.now() < deadline; ) await sleep(5);
    expect(queueOf(broker, `mqtt-subscription-${id}qos1`)?.unackedCount).toBe(0);
    expect(queueOf(broker, `mqtt-subscription-${id}qos1`)?.messageCount).toBe(0);
    again.destroy();
  });

  it('a clean start after the restart discards the session and its queues', async () => {
    const broker = await start();
    const before = clientsOf(broker);
    const id = `clean-after-${version}`;
    const first = await before.connect(persistent(id));
    await first.subscribeAsync(`${id}/t`, { qos: 1 });
    await first.endAsync();
    const pub = await before.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/t`, 'dropped with the session', { qos: 1 });

    const after = await restart(broker);
    expect(queueOf(broker, `mqtt-subscription-${id}qos1`)?.messageCount).toBe(1);
    const [c, connack, inbox] = await after.connectWithConnack({ clientId: id, protocolVersion: version, clean: true });
    expect(connack.sessionPresent).toBe(false);
    // deleted before the CONNACK of the clean start
    expect(queueOf(broker, `mqtt-subscription-${id}qos1`)).toBeUndefined();
    // a live message to the same topic comes alone: nothing of the old session came before it
    await c.subscribeAsync(`${id}/t`, { qos: 1 });
    const pub2 = await after.connect({ clientId: `${id}-pub2`, protocolVersion: version });
    await pub2.publishAsync(`${id}/t`, 'marker', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['marker']);
  });
});

describe('MQTT 5 session details across a restart', () => {
  it('keeps subscription identifiers, no local and retain as published', async () => {
    const broker = await start();
    const before = clientsOf(broker);
    const options = { clientId: 'opts', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await before.connect(options);
    await first.subscribeAsync('opts/a', { qos: 1, nl: true, properties: { subscriptionIdentifier: 7 } });
    await first.subscribeAsync('opts/+', { qos: 1, rap: true, properties: { subscriptionIdentifier: 9 } });
    // replacing a subscription replaces its binding: one binding per filter, as last granted
    await first.subscribeAsync('opts/+', { qos: 1, rap: true, properties: { subscriptionIdentifier: 11 } });
    expect(queueOf(broker, 'mqtt-subscription-optsqos1')?.inbound.size).toBe(2);
    await first.endAsync();

    const after = await restart(broker);
    const [c, connack, inbox] = await after.connectWithConnack(options);
    expect(connack.sessionPresent).toBe(true);
    // no local: its own publish reaches it through 'opts/+' only
    await c.publishAsync('opts/a', 'own', { qos: 1, retain: true });
    const other = await after.connect({ clientId: 'opts-pub', protocolVersion: 5 });
    await other.publishAsync('opts/a', 'other', { qos: 1 });
    await inbox.waitFor(2);
    await sleep(100);
    const idsOf = (v: number | number[] | undefined) => (Array.isArray(v) ? [...v].sort((x, y) => x - y) : v);
    const got = inbox.messages.map((m) => ({ payload: m.payload, ids: idsOf(m.packet.properties?.subscriptionIdentifier), retain: m.packet.retain }));
    expect(got).toEqual([
      { payload: 'own', ids: 11, retain: true }, // retain as published
      { payload: 'other', ids: [7, 11], retain: false },
    ]);
  });

  it('session expiry still ends a session whose broker restarted: its queue goes, the next connect finds none', async () => {
    const broker = await start();
    const before = clientsOf(broker);
    const options = { clientId: 'expires', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 1 } };
    const first = await before.connect(options);
    await first.subscribeAsync('expires/t', { qos: 1 });
    await first.endAsync();

    const after = await restart(broker);
    expect(queueOf(broker, 'mqtt-subscription-expiresqos1')).toBeDefined();
    await sleep(1300);
    expect(queueOf(broker, 'mqtt-subscription-expiresqos1')).toBeUndefined();
    const [, connack] = await after.connectWithConnack(options);
    expect(connack.sessionPresent).toBe(false);
  });
});

describe('retained messages across a restart', () => {
  // 'stream' is the default backend (a key-compacted stream per vhost); 'sqlite' the alternative
  it.each(['stream', 'sqlite'])('in the %s store are kept, matched by wildcards, replaced and cleared, with their MQTT 5 properties', async (store) => {
    const broker = await start({ retained_message_store: store });
    const before = clientsOf(broker);
    const pub = await before.connect({ clientId: 'ret-pub', protocolVersion: 5 });
    await pub.publishAsync('site/a/status', 'old', { qos: 1, retain: true });
    await pub.publishAsync('site/a/status', 'online', {
      qos: 1,
      retain: true,
      properties: { contentType: 'text/plain', userProperties: { fw: '1.2' }, correlationData: Buffer.from([0, 1, 255]), responseTopic: 'site/a/reply' },
    });
    await pub.publishAsync('site/b/status', 'offline', { qos: 0, retain: true });
    await pub.publishAsync('site/c/status', 'soon gone', { qos: 1, retain: true });
    await pub.publishAsync('site/c/status', '', { qos: 1, retain: true }); // cleared
    await pub.publishAsync('site/d/status', 'expires', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    await pub.publishAsync('$internal/x', 'not for wildcards at the root', { qos: 1, retain: true });

    const after = await restart(broker);
    await sleep(1100); // the one with a 1 s expiry is gone by now
    const sub = await after.connect({ clientId: 'ret-sub', protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('site/+/status', { qos: 1 });
    await sub.subscribeAsync('#', { qos: 1, rh: 0 });
    await inbox.waitFor(4);
    await sleep(100);
    const seen = inbox.messages.map((m) => `${m.topic}=${m.payload}`).sort();
    expect(seen).toEqual(['site/a/status=online', 'site/a/status=online', 'site/b/status=offline', 'site/b/status=offline']);
    const a = inbox.messages.find((m) => m.topic === 'site/a/status')!.packet;
    expect(a.retain).toBe(true);
    expect(a.properties?.contentType).toBe('text/plain');
    expect(a.properties?.userProperties).toEqual({ fw: '1.2' });
    expect(a.properties?.correlationData).toEqual(Buffer.from([0, 1, 255]));
    expect(a.properties?.responseTopic).toBe('site/a/reply');
    expect(inbox.messages.find((m) => m.topic === 'site/b/status')!.packet.qos).toBe(0);

    const sys = await after.connect({ clientId: 'ret-sys', protocolVersion: 5 });
    const sysInbox = new Inbox(sys);
    await sys.subscribeAsync('$internal/#', { qos: 1 });
    await sysInbox.waitFor(1);
    expect(sysInbox.payloads).toEqual(['not for wildcards at the root']);
  });

  it('with retained_message_store = memory they are gone after a restart', async () => {
    const broker = await start({ retained_message_store: 'memory' });
    const pub = await clientsOf(broker).connect({ clientId: 'mem-pub' });
    await pub.publishAsync('mem/status', 'kept in memory', { qos: 1, retain: true });
    const after = await restart(broker);
    const sub = await after.connect({ clientId: 'mem-sub' });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('mem/#', { qos: 1 });
    await sleep(200);
    expect(inbox.messages).toHaveLength(0);
  });
});
