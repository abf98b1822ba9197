/**
 * CONNECT: protocol levels, client identifiers, login and vhosts, keep-alive, takeover,
 * DISCONNECT — MQTT 3.1.1 and 5.0, with MQTT.js and with a raw client where MQTT.js would
 * not send what the test needs.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IConnackPacket, IDisconnectPacket } from 'mqtt-packet';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker({ connect_timeout: 300 });
  const core = b.broker.core;
  core.addVhost('tenant-a');
  core.users.add('alice', 'secret');
  core.users.setPermissions('alice', 'tenant-a', { configure: '.*', write: '.*', read: '.*' });
  core.users.add('bob', 'pw');
  core.users.setPermissions('bob', '/', { configure: '^mqtt-', write: '^mqtt-', read: '.*' });
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

/** CONNACK of a connection attempt MQTT.js makes (accepted or not) */
function connackOf(client: MqttClient): Promise<IConnackPacket> {
  return new Promise((resolve) => client.once('packetreceive', (p) => p.cmd === 'connack' && resolve(p as IConnackPacket)));
}

describe('client identifiers', () => {
  it('assigns an id to an empty one with clean start, and says which (MQTT 5)', async () => {
    const [, connack] = await clients.connectWithConnack({ clientId: '', protocolVersion: 5, clean: true });
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^warren-/);
  });

  it('accepts an empty id with clean session in 3.1.1', async () => {
    const c = await clients.connect({ clientId: '', protocolVersion: 4, clean: true });
    expect(c.connected).toBe(true);
  });

  it('rejects an empty id without clean session in 3.1.1: CONNACK 2 (MQTT-3.1.3-8)', async () => {
    const raw = await RawClient.open(b.tcpPort);
    // CONNECT level 4, flags 0 (clean session off), keep-alive 0, client id '' (mqtt-packet will not generate it)
    raw.write([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const connack = (await raw.next('connack')) as IConnackPacket;
    expect(connack.returnCode).toBe(2);
    expect(await raw.waitClosed()).toBe(true);
  });
});

describe('login and vhosts', () => {
  it('logs in with user name and password', async () => {
    await expect(clients.connect({ clientId: 'guest-1', username: 'guest', password: 'guest' })).resolves.toBeTruthy();
  });

  it("takes the vhost from a 'vhost:user' user name", async () => {
    const alice = await clients.connect({ clientId: 'alice-1', username: 'tenant-a:alice', password: 'secret', protocolVersion: 5 });
    const inbox = new Inbox(alice);
    await alice.subscribeAsync('t/a', { qos: 1 });
    // the same topic in the default vhost does not reach tenant-a
    const other = await clients.connect({ clientId: 'guest-2' });
    await other.publishAsync('t/a', 'default vhost', { qos: 1 });
    const peer = await clients.connect({ clientId: 'alice-2', username: 'tenant-a:alice', password: 'secret' });
    await peer.publishAsync('t/a', 'tenant-a', { qos: 1 });
    // routed before it (its PUBACK came first): had it reached tenant-a, it would come first
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['tenant-a']);
  });

  for (const version of [4, 5] as const) {
    it(`refuses a bad password: CONNACK ${version === 5 ? '0x86' : '4'} (MQTT ${version === 5 ? '5.0' : '3.1.1'})`, async () => {
      const c = clients.raw({ clientId: `bad-${version}`, username: 'guest', password: 'wrong', protocolVersion: version });
      const connack = await connackOf(c);
      expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(version === 5 ? 0x86 : 4);
    });

    it(`refuses an unknown vhost: CONNACK ${version === 5 ? '0x87' : '5'}`, async () => {
      const c = clients.raw({ clientId: `novhost-${version}`, username: 'nowhere:guest', password: 'guest', protocolVersion: version });
      const connack = await connackOf(c);
      expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(version === 5 ? 0x87 : 5);
    });
  }

  it('refuses a user without permissions on the vhost (MQTT 5: 0x87)', async () => {
    const c = clients.raw({ clientId: 'alice-default', username: 'alice', password: 'secret', protocolVersion: 5 });
    expect((await connackOf(c)).reasonCode).toBe(0x87);
  });

  it('checks permissions on subscribe and publish (SUBACK 0x87, PUBACK 0x87)', async () => {
    const bob = await clients.connect({ clientId: 'bob-1', username: 'bob', password: 'pw', protocolVersion: 5 });
    // bob may use his own queues and read, but not write to amq.topic
    const granted = await bob.subscribeAsync('anything', { qos: 1 });
    expect(granted[0].qos).toBe(1);
    const ack = await new Promise<{ reasonCode?: number }>((resolve) => {
      bob.publish('anything', 'x', { qos: 1 }, (err, packet) => resolve({ reasonCode: (err as { code?: number })?.code ?? (packet as { reasonCode?: number })?.reasonCode }));
    });
    expect(ack.reasonCode).toBe(0x87);
  });

  it('3.1.1 closes a client whose QoS 1 publish is refused (there is no negative PUBACK)', async () => {
    const bob = await clients.connect({ clientId: 'bob-2', username: 'bob', password: 'pw', protocolVersion: 4 });
    const gone = new Promise<void>((r) => bob.once('close', () => r()));
    bob.publish('anything', 'x', { qos: 1 });
    await gone;
  });

  it('refuses anonymous clients when allow_anonymous is off', async () => {
    const strict = await startMqttBroker({ allow_anonymous: false });
    const local = new Clients(strict.url);
    try {
      const c = local.raw({ clientId: 'anon', protocolVersion: 5 });
      expect((await connackOf(c)).reasonCode).toBe(0x86);
      await expect(local.connect({ clientId: 'named', username: 'guest', password: 'guest' })).resolves.toBeTruthy();
    } finally {
      await local.closeAll();
      await strict.stop();
    }
  });
});

describe('protocol levels and the first packet', () => {
  it('answers an unsupported protocol level with CONNACK 1 and closes (MQTT-3.1.2-2)', async () => {
    const raw = await RawClient.open(b.tcpPort);
    // CONNECT, protocol name MQTT, level 6
    raw.write([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x00, 0x00, 0x01, 0x78]);
    const connack = (await raw.next('connack')) as IConnackPacket;
    expect(connack.returnCode).toBe(1);
    expect(await raw.waitClosed()).toBe(true);
  });

  it('accepts MQTT 3.1 (MQIsdp)', async () => {
    const c = await clients.connect({ clientId: 'v31', protocolId: 'MQIsdp', protocolVersion: 3 });
    const inbox = new Inbox(c);
    await c.subscribeAsync('v31/t', { qos: 1 });
    await c.publishAsync('v31/t', 'old', { qos: 1 });
    await inbox.waitFor(1);
  });

  it('closes a connection that sends no CONNECT in time', async () => {
    const raw = await RawClient.open(b.tcpPort);
    expect(await raw.waitClosed(2000)).toBe(true);
  });
});

describe('keep-alive', () => {
  for (const version of [4, 5] as const) {
    it(`closes a silent client after 1.5 × keep-alive (MQTT-3.1.2-24), MQTT ${version}`, async () => {
      const raw = await RawClient.open(b.tcpPort, version);
      // the broker reads the client's only packet, CONNECT, between these two instants
      const sentAt = Date.now();
      raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: `ka-${version}`, keepalive: 1 }, version);
      await raw.next('connack');
      const answeredAt = Date.now();
      expect(await raw.waitClosed(3000)).toBe(true);
      const closedAt = Date.now();
      // not before 1.5 s from the earliest read, within 1.5 s (and slack) of the latest
      expect(closedAt - sentAt).toBeGreaterThanOrEqual(1500 - 20);
      expect(closedAt - answeredAt).toBeLessThan(2600);
      if (version === 5) expect((raw.packets.find((p) => p.cmd === 'disconnect') as IDisconnectPacket)?.reasonCode).toBe(0x8d);
    });
  }

  it('keeps a client that sends PINGREQ', async () => {
    const raw = await RawClient.open(b.tcpPort);
    raw.send({ ...CONNECT_V4, clientId: 'pinger', keepalive: 1 });
    await raw.next('connack');
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      raw.send({ cmd: 'pingreq' });
      await raw.next('pingresp');
    }
    expect(raw.closed).toBe(false);
    raw.destroy();
  });
});

describe('takeover and DISCONNECT', () => {
  it('3.1.1: a second connection with the same client id closes the first (MQTT-3.1.4-3)', async () => {
    const first = await clients.connect({ clientId: 'same-4', protocolVersion: 4 });
    const firstClosed = new Promise<void>((r) => first.once('close', () => r()));
    const second = await clients.connect({ clientId: 'same-4', protocolVersion: 4 });
    await firstClosed;
    const inbox = new Inbox(second);
    await second.subscribeAsync('same/4', { qos: 1 });
    await second.publishAsync('same/4', 'alive', { qos: 1 });
    await inbox.waitFor(1);
  });

  it('5.0: the first connection gets DISCONNECT 0x8E Session taken over', async () => {
    const first = await clients.connect({ clientId: 'same-5', protocolVersion: 5 });
    const disconnect = new Promise<IDisconnectPacket>((r) => first.once('disconnect', r));
    await clients.connect({ clientId: 'same-5', protocolVersion: 5 });
    expect((await disconnect).reasonCode).toBe(0x8e);
  });

  it('client ids are per vhost: the same id in two vhosts does not take over', async () => {
    const a = await clients.connect({ clientId: 'shared-id', protocolVersion: 5 });
    let disconnected = false;
    a.once('disconnect', () => (disconnected = true));
    await clients.connect({ clientId: 'shared-id', username: 'tenant-a:alice', password: 'secret', protocolVersion: 5 });
    // a takeover would have closed the first connection before the second's CONNACK: it still gets answers
    await a.publishAsync('shared-id/t', 'still here', { qos: 1 });
    expect(disconnected).toBe(false);
    expect(a.connected).toBe(true);
  });

  it('DISCONNECT ends the connection normally', async () => {
    const raw = await RawClient.open(b.tcpPort);
    raw.send({ ...CONNECT_V4, clientId: 'leaver' });
    await raw.next('connack');
    raw.send({ cmd: 'disconnect' });
    expect(await raw.waitClosed()).toBe(true);
  });
});
