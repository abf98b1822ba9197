/**
 * `$SYS/broker/...` as Mosquitto publishes it: the topic names dashboards look for, current
 * values with the retain flag on subscribe, changed values every mqtt.sys_interval, counters
 * that follow the traffic, and never matched by `#` or `+` at the root (MQTT-4.7.2-1) nor seen
 * by AMQP consumers of the MQTT exchange. MQTT.js and amqplib clients.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker({ sys_interval: 200 }, { amqp: true });
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

/** The latest value of each $SYS topic an inbox saw. */
const latest = (inbox: Inbox): Map<string, string> => new Map(inbox.messages.map((m) => [m.topic, m.payload]));

// Mosquitto's names (mosquitto.conf(5) and its $SYS documentation)
const MOSQUITTO_TOPICS = [
  'version',
  'uptime',
  'clients/connected',
  'clients/disconnected',
  'clients/total',
  'clients/maximum',
  'clients/expired',
  'messages/received',
  'messages/sent',
  'publish/messages/received',
  'publish/messages/sent',
  'publish/messages/dropped',
  'bytes/received',
  'bytes/sent',
  'retained messages/count',
  'subscriptions/count',
  'heap/current',
  'heap/maximum',
  ...['messages/received', 'messages/sent', 'publish/received', 'publish/sent', 'bytes/received', 'bytes/sent', 'sockets', 'connections'].flatMap((l) =>
    ['1min', '5min', '15min'].map((p) => `load/${l}/${p}`),
  ),
].map((t) => `$SYS/broker/${t}`);

describe('$SYS/broker topics', () => {
  it('a $SYS/# subscription gets every topic at once, retained, with Mosquitto’s names and formats', async () => {
    const c = await clients.connect({ clientId: 'sys-all' });
    const inbox = new Inbox(c);
    await c.subscribeAsync('$SYS/#', { qos: 1 });
    await inbox.waitFor(MOSQUITTO_TOPICS.length);
    const first = inbox.messages.slice(0, MOSQUITTO_TOPICS.length);
    expect(first.every((m) => m.packet.retain && m.packet.qos === 0)).toBe(true);
    const values = latest(inbox);
    for (const t of MOSQUITTO_TOPICS) expect(values.has(t), t).toBe(true);
    expect(values.get('$SYS/broker/version')).toMatch(/^warren version \d+\.\d+\.\d+/);
    expect(values.get('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/);
    expect(Number(values.get('$SYS/broker/clients/connected'))).toBeGreaterThanOrEqual(1);
    expect(values.get('$SYS/broker/load/messages/received/1min')).toMatch(/^\d+\.\d\d$/);
  });

  it('counters follow the traffic: changed values come every interval, without the retain flag', async () => {
    const watcher = await clients.connect({ clientId: 'sys-watch', protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync(['$SYS/broker/publish/messages/received', '$SYS/broker/bytes/received', '$SYS/broker/load/publish/received/1min', '$SYS/broker/clients/connected'], {
      qos: 0,
      properties: { subscriptionIdentifier: 9 },
    });
    await inbox.waitFor(4);
    const before = latest(inbox);
    const count = inbox.messages.length;
    const pub = await clients.connect({ clientId: 'sys-pub' });
    for (let i = 0; i < 50; i++) await pub.publishAsync('sys/traffic', 'x'.repeat(100), { qos: 1 });
    await sleep(500);
    const updates = inbox.messages.slice(count);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((m) => !m.packet.retain && m.packet.properties?.subscriptionIdentifier === 9)).toBe(true);
    const after = latest(inbox);
    const grew = (t: string) => Number(after.get(`$SYS/broker/${t}`)) - Number(before.get(`$SYS/broker/${t}`));
    expect(grew('publish/messages/received')).toBeGreaterThanOrEqual(50);
    expect(grew('bytes/received')).toBeGreaterThanOrEqual(50 * 100);
    expect(grew('clients/connected')).toBe(1);
    expect(Number(after.get('$SYS/broker/load/publish/received/1min'))).toBeGreaterThan(0);
  });

  it('# and + at the root do not match $SYS (MQTT-4.7.2-1); AMQP consumers of the MQTT exchange never see it', async () => {
    const conn = await amqp.connect(b.amqpUrl!);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', '#');
    const amqpKeys: string[] = [];
    await ch.consume(queue, (m) => m && amqpKeys.push(m.fields.routingKey), { noAck: true });
    const c = await clients.connect({ clientId: 'sys-wild' });
    const inbox = new Inbox(c);
    await c.subscribeAsync({ '#': { qos: 0 }, '+/broker/uptime': { qos: 0 } });
    const sysWatcher = await clients.connect({ clientId: 'sys-wild-2' });
    await sysWatcher.subscribeAsync('$SYS/#', { qos: 0 });
    await c.publishAsync('sys/ordinary', 'seen', { qos: 1 });
    await sleep(600);
    expect(inbox.messages.map((m) => m.topic)).toEqual(['sys/ordinary']);
    expect(amqpKeys.filter((k) => k.startsWith('$'))).toEqual([]);
    await conn.close();
  });
});

describe('mqtt.sys_interval = 0', () => {
  it('publishes no $SYS topics', async () => {
    const quiet = await startMqttBroker({ sys_interval: 0 });
    const qc = new Clients(quiet.url);
    try {
      const c = await qc.connect({ clientId: 'sys-off' });
      const inbox = new Inbox(c);
      await c.subscribeAsync('$SYS/#', { qos: 0 });
      await sleep(400);
      expect(inbox.messages).toEqual([]);
    } finally {
      await qc.closeAll();
      await quiet.stop();
    }
  });
});
