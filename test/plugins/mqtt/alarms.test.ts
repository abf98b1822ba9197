/**
 * Resource alarms over MQTT: while the core's alarm is on, a connection that
 * publishes is held (not read) while consumers keep draining; when it clears every held
 * message is published, in order, and acknowledged. Past the alarm deadline a held publish
 * fails explicitly: PUBACK / PUBREC 0x97 in MQTT 5 (DISCONNECT 0x97 for QoS 0), a close in
 * 3.1.1. The alarm is raised with a 2-byte memory watermark, as the AMQP alarm tests do.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IPubackPacket, IPubrecPacket } from 'mqtt-packet';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
const raws: RawClient[] = [];
beforeEach(async () => {
  b = await startMqttBroker();
  clients = new Clients(b.url);
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await clients.closeAll();
  await b.stop();
});

function raiseAlarm(): void {
  b.broker.core.alarms.settings.memoryHighWatermark = 2;
  b.broker.core.alarms.check();
}
function clearAlarm(): void {
  b.broker.core.alarms.settings.memoryHighWatermark = 0.99;
  b.broker.core.alarms.check();
}

async function until(f: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(10);
  }
}

async function raw(version: 4 | 5, clientId: string, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const r = await RawClient.open(b.tcpPort, version);
  raws.push(r);
  r.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId, ...extra }, version);
  await r.next('connack');
  return r;
}

const publish = (topic: string, payload: string, qos: 0 | 1 | 2, messageId?: number) =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, ...(messageId ? { messageId } : {}) }) as const;

describe.each([
  ['TCP', 4],
  ['TCP', 5],
  ['WebSocket', 5],
] as const)('an alarm cycle over %s, MQTT %s', (transport, version) => {
  it('holds the publisher, lets the subscriber drain, then publishes and acknowledges everything in order', async () => {
    const id = `cycle-${transport}-${version}`;
    const session = { clientId: `${id}-sub`, protocolVersion: version, clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) };
    const sub = await clients.connect(session);
    await sub.subscribeAsync(`${id}/t`, { qos: 1 });
    await sub.endAsync();
    const url = transport === 'WebSocket' ? b.wsUrl : b.url;
    const pub = await clients.connect({ clientId: `${id}-pub`, protocolVersion: version }, url);
    for (let i = 0; i < 5; i++) await pub.publishAsync(`${id}/t`, `before${i}`, { qos: 1 });

    raiseAlarm();
    let acked = 0;
    for (let i = 0; i < 10; i++) pub.publish(`${id}/t`, `during${i}`, { qos: 1 }, (err) => !err && acked++);
    // the subscriber comes back during the alarm and drains what was queued before it
    const [, , inbox] = await clients.connectWithConnack(session);
    await inbox.waitFor(5);
    await sleep(200);
    expect(inbox.payloads).toEqual(['before0', 'before1', 'before2', 'before3', 'before4']);
    expect(acked).toBe(0);
    expect(pub.connected).toBe(true);

    clearAlarm();
    await inbox.waitFor(15);
    await until(() => acked === 10);
    expect(inbox.payloads).toEqual([...Array.from({ length: 5 }, (_, i) => `before${i}`), ...Array.from({ length: 10 }, (_, i) => `during${i}`)]);
  });
});

describe('the alarm deadline', () => {
  it('MQTT 5: a held QoS 1 / QoS 2 publish gets PUBACK / PUBREC 0x97, is not published, and the connection goes on', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 150;
    const sub = await clients.connect({ clientId: 'deadline-sub', protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('deadline/#', { qos: 2 });
    const r = await raw(5, 'deadline-pub');
    raiseAlarm();
    const t0 = Date.now();
    r.send(publish('deadline/a', 'one', 1, 1), 5);
    r.send(publish('deadline/b', 'two', 2, 2), 5);
    const puback = (await r.next('puback')) as IPubackPacket;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(puback).toMatchObject({ messageId: 1, reasonCode: 0x97 });
    expect(puback.properties?.reasonString).toMatch(/resource alarm \(low on memory\)/);
    expect(((await r.next('pubrec')) as IPubrecPacket).reasonCode).toBe(0x97);
    // still connected and read again: a ping is answered during the alarm
    r.send({ cmd: 'pingreq' }, 5);
    await r.next('pingresp');
    clearAlarm();
    r.send(publish('deadline/c', 'after', 1, 3), 5);
    expect(((await r.next('puback')) as IPubackPacket).reasonCode).toBe(0);
    await inbox.waitFor(1);
    await sleep(100);
    expect(inbox.payloads).toEqual(['after']);
  });

  it('MQTT 5: a held QoS 0 publish, which has no ack to refuse it with, ends the connection with DISCONNECT 0x97', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 150;
    const r = await raw(5, 'deadline-qos0');
    raiseAlarm();
    r.send(publish('deadline/q0', 'lost?', 0), 5);
    expect((await r.next('disconnect')).reasonCode).toBe(0x97);
    expect(await r.waitClosed()).toBe(true);
  });

  it('MQTT 3.1.1 has no negative ack: the connection is closed', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 150;
    const r = await raw(4, 'deadline-v4');
    raiseAlarm();
    r.send(publish('deadline/v4', 'x', 1, 1), 4);
    expect(await r.waitClosed(2000)).toBe(true);
    expect(r.packets.filter((p) => p.cmd === 'puback')).toHaveLength(0);
  });

  it('a held connection is not timed out by its keep-alive (the silence is ours)', async () => {
    b.broker.core.alarms.settings.publishDeadlineMs = 0; // hold until the alarm clears
    const r = await raw(5, 'held-keepalive', { keepalive: 1 });
    raiseAlarm();
    r.send(publish('keepalive/t', 'x', 1, 1), 5);
    await sleep(2000); // beyond 1.5 × the keep-alive
    expect(r.closed).toBe(false);
    clearAlarm();
    expect(((await r.next('puback')) as IPubackPacket).reasonCode).toBe(0x10); // published (no subscriber)
  });
});
