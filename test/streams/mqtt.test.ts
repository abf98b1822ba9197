/**
 * MQTT replay of a stream: `$stream/<stream>/<filter>` with the offset in an
 * MQTT 5 user property, `$stream@<offset>/<stream>/<filter>` for 3.1.1 clients, deliveries
 * filtered by topic with their offset, and a persistent session's stored offset. The stream
 * is filled over AMQP (through amq.topic) and over MQTT, so the protocols share one log.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from '../plugins/mqtt/helpers.js';
import { uniqueName } from '../helpers/amqp-clients.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker({}, { amqp: true });
  clients = new Clients(b.url);
});
afterEach(() => clients.closeAll());
afterAll(() => b?.stop());

/** A stream bound to amq.topic for `sensors.#`, filled with readings of two sensors over AMQP. */
async function sensorStream(): Promise<string> {
  const name = uniqueName('mqtt-stream').replaceAll('.', '-');
  const c = await amqp.connect(b.amqpUrl!);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await ch.bindQueue(name, 'amq.topic', 'sensors.#');
  for (let i = 0; i < 6; i++) ch.publish('amq.topic', `sensors.${i % 2 === 0 ? 'a' : 'b'}`, Buffer.from(`r${i}`), { persistent: true });
  await ch.waitForConfirms();
  await c.close();
  return name;
}

describe('MQTT subscriptions to a stream', () => {
  it('MQTT 5: $stream/<stream>/<filter> with the offset as a user property; deliveries carry their offset and topic', async () => {
    const name = await sensorStream();
    const c = await clients.connect({ protocolVersion: 5, clientId: 'v5-replay' });
    const inbox = new Inbox(c);
    await c.subscribeAsync(`$stream/${name}/sensors/a`, { qos: 1, properties: { userProperties: { 'x-stream-offset': 'first' } } });
    await inbox.waitFor(3);
    await sleep(100);
    expect(inbox.messages.map((m) => [m.topic, m.payload])).toEqual([
      ['sensors/a', 'r0'],
      ['sensors/a', 'r2'],
      ['sensors/a', 'r4'],
    ]);
    expect(inbox.messages.map((m) => m.packet.properties?.userProperties?.['x-stream-offset'])).toEqual(['0', '2', '4']);
    // new messages published over MQTT reach the subscription as the stream grows
    const pub = await clients.connect({ protocolVersion: 5, clientId: 'v5-pub' });
    await pub.publishAsync('sensors/a', 'r6', { qos: 1 });
    await pub.publishAsync('sensors/b', 'r7', { qos: 1 });
    await inbox.waitFor(4);
    await sleep(100);
    expect(inbox.payloads).toEqual(['r0', 'r2', 'r4', 'r6']);
  });

  it('MQTT 3.1.1: $stream@<offset>/<stream>/<filter>, with wildcards', async () => {
    const name = await sensorStream();
    const c = await clients.connect({ protocolVersion: 4, clientId: 'v4-replay' });
    const inbox = new Inbox(c);
    await c.subscribeAsync(`$stream@3/${name}/sensors/+`, { qos: 0 });
    await inbox.waitFor(3);
    await sleep(100);
    expect(inbox.messages.map((m) => [m.topic, m.payload])).toEqual([
      ['sensors/b', 'r3'],
      ['sensors/a', 'r4'],
      ['sensors/b', 'r5'],
    ]);
    const interval = await clients.connect({ protocolVersion: 4, clientId: 'v4-interval' });
    const all = new Inbox(interval);
    await interval.subscribeAsync(`$stream@1h/${name}/#`, { qos: 1 });
    await all.waitFor(6);
  });

  it('refuses a malformed stream filter in its SUBACK', async () => {
    const c = await clients.connect({ protocolVersion: 5, clientId: 'v5-bad' });
    // MQTT.js turns a SUBACK failure code (0x8F Topic Filter invalid) into a rejection
    await expect(c.subscribeAsync('$stream@yesterday/x/#', { qos: 1 })).rejects.toThrow(/Topic Filter invalid/);
    await expect(c.subscribeAsync('$stream/only-a-name', { qos: 1 })).rejects.toThrow(/Topic Filter invalid/);
  });

  it('a persistent session resumes its stream subscription after the last acknowledged message', async () => {
    const name = await sensorStream();
    const options = { protocolVersion: 5 as const, clientId: 'persistent-reader', clean: false, properties: { sessionExpiryInterval: 300 } };
    const c = await clients.connect(options);
    const inbox = new Inbox(c);
    await c.subscribeAsync(`$stream@first/${name}/sensors/#`, { qos: 1 });
    await inbox.waitFor(6);
    await sleep(100);
    await c.endAsync();
    const pub = await clients.connect({ protocolVersion: 5, clientId: 'writer' });
    await pub.publishAsync('sensors/a', 'r6', { qos: 1 });
    await pub.publishAsync('sensors/b', 'r7', { qos: 1 });
    // the session comes back with its subscription: only what it has not seen yet
    const [again, connack, resumed] = await clients.connectWithConnack(options);
    expect(connack.sessionPresent).toBe(true);
    await resumed.waitFor(2);
    await sleep(150);
    expect(resumed.payloads).toEqual(['r6', 'r7']);
    await again.endAsync();
  });
});
