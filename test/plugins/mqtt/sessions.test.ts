/**
 * Sessions: clean and persistent, messages queued while the client is away, session
 * expiry (MQTT 5), retransmission of unacknowledged QoS 1/2 deliveries with their original
 * packet identifiers, PUBREL resend, and the inbound QoS 2 duplicate rule.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IConnackPacket, IPublishPacket, IPubcompPacket, IPubrecPacket } from 'mqtt-packet';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, until, type MqttTestBroker } from './helpers.js';

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

const queue = (name: string) => b.broker.core.vhosts.get('/')!.queues.get(name);

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const v = `v${version}`;
  const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 60 } } : { clean: false };

  it('keeps subscriptions and queued QoS 1 messages of a persistent session while the client is away', async () => {
    const id = `away-${v}`;
    const first = await clients.connect({ clientId: id, protocolVersion: version, ...persistent });
    await first.subscribeAsync(`${id}/t`, { qos: 1 });
    await first.endAsync();
    const pub = await clients.connect({ clientId: `${id}-pub`, protocolVersion: version });
    for (let i = 0; i < 5; i++) await pub.publishAsync(`${id}/t`, `m${i}`, { qos: 1 });
    await pub.publishAsync(`${id}/t`, 'qos0 is kept too', { qos: 0 });
    // a QoS 0 publish has no acknowledgement: the queue shows when it was routed
    await until('the QoS 0 message queued', () => queue(`mqtt-subscription-${id}qos1`)?.messageCount === 6);

    const [, connack, inbox] = await clients.connectWithConnack({ clientId: id, protocolVersion: version, ...persistent });
    expect(connack.sessionPresent).toBe(true);
    await inbox.waitFor(6);
    expect(inbox.payloads).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'qos0 is kept too']);
  });

  it('a clean session starts empty and leaves nothing behind', async () => {
    const id = `clean-${v}`;
    const first = await clients.connect({ clientId: id, protocolVersion: version, clean: true });
    await first.subscribeAsync(`${id}/t`, { qos: 1 });
    expect(queue(`mqtt-subscription-${id}qos1`)?.exclusive).toBe(true);
    await first.endAsync();
    // the client's end does not wait for the broker's: its queue goes when the broker closes the connection
    await until('the clean session queue deleted', () => queue(`mqtt-subscription-${id}qos1`) === undefined);
  });

  it('clean start discards an existing persistent session', async () => {
    const id = `discard-${v}`;
    const first = await clients.connect({ clientId: id, protocolVersion: version, ...persistent });
    await first.subscribeAsync(`${id}/t`, { qos: 1 });
    await first.endAsync();
    const again = await clients.connect({ clientId: id, protocolVersion: version, clean: true });
    expect(again.connected).toBe(true);
    // the old session's queue is deleted before the CONNACK of the clean start
    expect(queue(`mqtt-subscription-${id}qos1`)).toBeUndefined();
    const inbox = new Inbox(again);
    await again.subscribeAsync(`${id}/marker`, { qos: 1 });
    const pub = await clients.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/t`, 'nobody', { qos: 1 });
    // routed after it on the same connection: had the old subscription survived, 'nobody' would come first
    await pub.publishAsync(`${id}/marker`, 'marker', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['marker']);
  });

  it('resends an unacknowledged QoS 1 delivery with dup set and the same packet identifier (MQTT-4.4.0-1)', async () => {
    const id = `resend1-${v}`;
    const connect = { ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: id, clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) };
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send(connect, version);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${id}/t`, qos: 1 }] }, version);
    await raw.next('suback');
    const pub = await clients.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/t`, 'unacked', { qos: 1 });
    const first = (await raw.next('publish')) as IPublishPacket;
    expect(first.dup).toBe(false);
    raw.destroy(); // no PUBACK

    const again = await RawClient.open(b.tcpPort, version);
    again.send(connect, version);
    const connack = (await again.next('connack')) as IConnackPacket;
    expect(connack.sessionPresent).toBe(true);
    const resent = (await again.next('publish')) as IPublishPacket;
    expect(resent.payload.toString()).toBe('unacked');
    expect(resent.dup).toBe(true);
    expect(resent.messageId).toBe(first.messageId);
    again.send({ cmd: 'puback', messageId: resent.messageId }, version);
    // the PUBACK has no answer: the queue shows when it was read
    await until('the PUBACK settled', () => queue(`mqtt-subscription-${id}qos1`)?.unackedCount === 0);
    expect(queue(`mqtt-subscription-${id}qos1`)?.messageCount).toBe(0);
    again.destroy();
  });

  it('QoS 2 out: PUBREL is resent after a reconnect, and the message is not sent again', async () => {
    const id = `resend2-${v}`;
    const connect = { ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: id, clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) };
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send(connect, version);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${id}/t`, qos: 2 }] }, version);
    await raw.next('suback');
    const pub = await clients.connect({ clientId: `${id}-pub`, protocolVersion: version });
    await pub.publishAsync(`${id}/t`, 'exactly once', { qos: 2 });
    const p = (await raw.next('publish')) as IPublishPacket;
    expect(p.qos).toBe(2);
    raw.send({ cmd: 'pubrec', messageId: p.messageId }, version);
    await raw.next('pubrel');
    raw.destroy(); // no PUBCOMP

    const again = await RawClient.open(b.tcpPort, version);
    again.send(connect, version);
    await again.next('connack');
    const pubrel = await again.next('pubrel');
    expect(pubrel.messageId).toBe(p.messageId);
    again.send({ cmd: 'pubcomp', messageId: p.messageId }, version);
    // a message published after the PUBCOMP comes after anything resent: only it may arrive
    await pub.publishAsync(`${id}/t`, 'next', { qos: 2 });
    const next = (await again.next('publish')) as IPublishPacket;
    expect(next.payload.toString()).toBe('next');
    expect(again.packets.filter((x) => x.cmd === 'publish')).toHaveLength(0);
    again.destroy();
  });

  it('QoS 2 in: a resent PUBLISH before PUBREL is not routed twice (MQTT-4.3.3-10)', async () => {
    const id = `dup2-${v}`;
    const sub = await clients.connect({ clientId: `${id}-sub`, protocolVersion: version });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(`${id}/t`, { qos: 2 });
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: id }, version);
    await raw.next('connack');
    const publish = { cmd: 'publish' as const, topic: `${id}/t`, payload: Buffer.from('once'), qos: 2 as const, retain: false, dup: false, messageId: 7 };
    raw.send(publish, version);
    expect(((await raw.next('pubrec')) as IPubrecPacket).messageId).toBe(7);
    raw.send({ ...publish, dup: true }, version);
    await raw.next('pubrec');
    raw.send({ cmd: 'pubrel', messageId: 7 }, version);
    const pubcomp = (await raw.next('pubcomp')) as IPubcompPacket;
    expect(pubcomp.messageId).toBe(7);
    // a later publish of the same connection is routed after any second copy would have been
    raw.send({ ...publish, messageId: 8, payload: Buffer.from('after') }, version);
    raw.send({ cmd: 'pubrel', messageId: 8 }, version);
    await raw.next('pubcomp');
    await inbox.waitFor(2);
    expect(inbox.payloads).toEqual(['once', 'after']);
    raw.destroy();
  });
});

describe('MQTT 5 session expiry', () => {
  it('a session with expiry 0 ends with its connection even without clean start', async () => {
    const id = 'expiry-0';
    const c = await clients.connect({ clientId: id, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 0 } });
    await c.subscribeAsync(`${id}/t`, { qos: 1 });
    await c.endAsync();
    await until('the session ended with its connection', () => queue(`mqtt-subscription-${id}qos1`) === undefined);
    const [, connack] = await clients.connectWithConnack({ clientId: id, protocolVersion: 5, clean: false });
    expect(connack.sessionPresent).toBe(false);
  });

  it('a session expires after its interval: its queue is deleted and a later connect finds no session', async () => {
    const id = 'expiry-1';
    const c = await clients.connect({ clientId: id, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 1 } });
    await c.subscribeAsync(`${id}/t`, { qos: 1 });
    await c.endAsync();
    await sleep(200);
    expect(queue(`mqtt-subscription-${id}qos1`)).toBeDefined();
    await sleep(1300);
    expect(queue(`mqtt-subscription-${id}qos1`)).toBeUndefined();
    const [, connack] = await clients.connectWithConnack({ clientId: id, protocolVersion: 5, clean: false });
    expect(connack.sessionPresent).toBe(false);
  });

  it('caps the session expiry at the configured maximum and says so in CONNACK', async () => {
    const capped = await startMqttBroker({ max_session_expiry_interval_seconds: 5 });
    const local = new Clients(capped.url);
    try {
      const [, connack] = await local.connectWithConnack({ clientId: 'cap', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
      expect(connack.properties?.sessionExpiryInterval).toBe(5);
    } finally {
      await local.closeAll();
      await capped.stop();
    }
  });
});

describe('persistent sessions across a broker restart', () => {
  // the session comes back from its durable queues and bindings, the retained message from
  // the SQLite backend (more cases in restart.test.ts)
  it('keeps subscriptions, queued QoS 1 messages and retained messages across a restart', async () => {
    const rb = await startMqttBroker();
    const local = new Clients(rb.url);
    try {
      const persistent = { clientId: 'restart-me', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } };
      const first = await local.connect(persistent);
      await first.subscribeAsync('restart/t', { qos: 1 });
      await first.endAsync();
      const pub = await local.connect({ clientId: 'restart-pub' });
      for (let i = 0; i < 3; i++) await pub.publishAsync('restart/t', `m${i}`, { qos: 1 });
      await pub.publishAsync('restart/status', 'kept', { qos: 1, retain: true });
      await local.closeAll();

      await rb.restart();
      const after = new Clients(rb.url);
      try {
        const [, connack, inbox] = await after.connectWithConnack(persistent);
        expect(connack.sessionPresent).toBe(true);
        await inbox.waitFor(3);
        expect(inbox.payloads).toEqual(['m0', 'm1', 'm2']);
        const watcher = await after.connect({ clientId: 'restart-watch' });
        const retained = new Inbox(watcher);
        await watcher.subscribeAsync('restart/status', { qos: 1 });
        await retained.waitFor(1);
        expect(retained.payloads).toEqual(['kept']);
      } finally {
        await after.closeAll();
      }
    } finally {
      await local.closeAll();
      await rb.stop();
    }
  });
});
