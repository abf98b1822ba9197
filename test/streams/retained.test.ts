/**
 * MQTT retained messages as a key-compacted stream (mqtt.retained_message_store
 * = stream): they match wildcard subscriptions, survive a restart (reloaded from the stream),
 * and the stream `mqtt-retained` can be read as the current state from AMQP and STOMP.
 */
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from '../plugins/mqtt/helpers.js';
import type { StreamQueue } from '../../src/core/queues/stream/stream-queue.js';

let b: MqttTestBroker | undefined;
let clients: Clients | undefined;
afterEach(async () => {
  await clients?.closeAll();
  await b?.stop();
  b = undefined;
});

async function start(): Promise<MqttTestBroker> {
  b = await startMqttBroker({ retained_message_store: 'stream' }, { amqp: true });
  clients = new Clients(b.url);
  return b;
}

/** The retained messages a new subscription to `filter` gets: waits for `expected` of them (a loaded machine may be slow), then a while for any more. */
async function retainedFor(filter: string, expected: number): Promise<[string, string][]> {
  const c = await clients!.connect({ protocolVersion: 5, clientId: `reader-${Math.random().toString(36).slice(2)}` });
  const inbox = new Inbox(c);
  await c.subscribeAsync(filter, { qos: 1 });
  await inbox.waitFor(expected, 10_000).catch(() => undefined); // the comparison below says what came
  await sleep(150);
  await c.endAsync();
  return inbox.messages.map((m) => [m.topic, m.payload] as [string, string]).sort();
}

describe('retained messages in a compacted stream', () => {
  it('keep the newest per topic, clear on an empty payload, match wildcards, and survive a restart', async () => {
    const broker = await start();
    const pub = await clients!.connect({ protocolVersion: 5, clientId: 'device' });
    await pub.publishAsync('home/kitchen/temp', '20', { qos: 1, retain: true });
    await pub.publishAsync('home/kitchen/temp', '21', { qos: 1, retain: true, properties: { userProperties: { unit: 'C' } } });
    await pub.publishAsync('home/hall/light', 'on', { qos: 0, retain: true });
    await pub.publishAsync('home/garage/door', 'open', { qos: 1, retain: true });
    await pub.publishAsync('home/garage/door', '', { qos: 1, retain: true }); // cleared
    await sleep(50);
    expect(await retainedFor('home/#', 2)).toEqual([
      ['home/hall/light', 'on'],
      ['home/kitchen/temp', '21'],
    ]);
    await broker.restart();
    clients = new Clients(broker.url);
    expect(await retainedFor('home/+/temp', 1)).toEqual([['home/kitchen/temp', '21']]);
    const c = await clients.connect({ protocolVersion: 5, clientId: 'v5-props' });
    const inbox = new Inbox(c);
    await c.subscribeAsync('home/kitchen/temp', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.messages[0].packet.retain).toBe(true);
    expect(inbox.messages[0].packet.properties?.userProperties).toEqual({ unit: 'C' });
  });

  it('can be read as the current state from AMQP, compacted to one value per topic', async () => {
    const broker = await start();
    const pub = await clients!.connect({ protocolVersion: 5, clientId: 'device' });
    for (let v = 0; v < 5; v++) {
      await pub.publishAsync('plant/line1/state', `s${v}`, { qos: 1, retain: true });
      await pub.publishAsync('plant/line2/state', `t${v}`, { qos: 1, retain: true });
    }
    await sleep(50);
    const stream = broker.broker.core.vhosts.get('/')!.queues.get('mqtt-retained') as StreamQueue;
    stream.log.rollover();
    await pub.publishAsync('plant/line3/state', 'u0', { qos: 1, retain: true });
    await sleep(50);
    await broker.broker.core.vhosts.get('/')!.store!.streams!.compactNow(stream.streamId);
    const conn = await amqp.connect(broker.amqpUrl!);
    const ch = await conn.createChannel();
    await ch.prefetch(100);
    const state: [string, string, string][] = [];
    await ch.consume('mqtt-retained', (m) => {
      if (!m) return;
      state.push([String(m.properties.headers?.['x-mqtt-topic']), m.fields.routingKey, m.content.toString()]);
      ch.ack(m);
    }, { arguments: { 'x-stream-offset': 'first' } });
    // the three current values must come (a loaded machine may be slow); then a while for any
    // older value compaction should have removed
    for (const deadline = Date.now() + 10_000; state.length < 3 && Date.now() < deadline; ) await sleep(10);
    await sleep(200);
    expect(state.sort()).toEqual([
      ['plant/line1/state', 'plant.line1.state', 's4'],
      ['plant/line2/state', 'plant.line2.state', 't4'],
      ['plant/line3/state', 'plant.line3.state', 'u0'],
    ]);
    await conn.close();
  });
});
