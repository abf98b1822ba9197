/**
 * Kafka and the other front-ends on the same log, beyond AMQP (cross-protocol.test.ts): a
 * record produced by kafkajs is replayed by a STOMP subscription (`/amq/queue/<t>-0` with
 * `x-stream-offset`) and an MQTT one (`$stream/<t>-0/#`), value and offset intact; and an MQTT
 * publish reaches a topic through its `x-partition-hash` exchange bound to amq.topic, landing
 * on the partition Kafka's partitioner picks for its key (the routing key) and consumed by
 * kafkajs with that key.
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/util/murmur2.js';
import { RawClient, type RawFrame } from '../plugins/stomp/helpers.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker({}, undefined, { mqtt: { port: 0, host: '127.0.0.1', ws_enabled: false }, stomp: { port: 0, host: '127.0.0.1', ws_enabled: false } });
});
afterAll(() => b?.stop());

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kafka with STOMP and MQTT', () => {
  it('kafkajs records are replayed by STOMP and MQTT stream subscriptions', async () => {
    const topic = uniqueTopic('k2sm');
    const producer = b.client().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'a', value: 'first' }, { key: 'b', value: 'second' }] });
    await producer.disconnect();

    const [stomp] = await RawClient.login(b.broker.address('stomp').port);
    stomp.send('SUBSCRIBE', { id: 's', destination: `/amq/queue/${topic}-0`, ack: 'client', 'prefetch-count': '10', 'x-stream-offset': 'first' });
    const frames: RawFrame[] = [];
    while (frames.length < 2) {
      const f = await stomp.next(10_000);
      if (f.command === 'MESSAGE') frames.push(f);
    }
    stomp.close();
    expect(frames.map((f) => [f.body.toString(), f.headers['x-stream-offset']])).toEqual([
      ['first', '0'],
      ['second', '1'],
    ]);

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.broker.address('mqtt').port}`, { protocolVersion: 5, clientId: `k2m-${process.pid}`, reconnectPeriod: 0, username: 'guest', password: 'guest' });
    try {
      const got: { topic: string; payload: string; offset: unknown }[] = [];
      client.on('message', (t, payload, packet) => got.push({ topic: t, payload: payload.toString(), offset: packet.properties?.userProperties?.['x-stream-offset'] }));
      await client.subscribeAsync(`$stream/${topic}-0/#`, { qos: 1, properties: { userProperties: { 'x-stream-offset': 'first' } } });
      await until(() => got.length >= 2);
      expect(got.map((g) => [g.payload, g.offset])).toEqual([
        ['first', '0'],
        ['second', '1'],
      ]);
    } finally {
      await client.endAsync();
    }
  }, 60_000);

  it("an MQTT publish feeds a topic through its exchange, on the partition of Kafka's partitioner", async () => {
    const topic = uniqueTopic('m2k');
    await b.createTopic(topic, 3);
    const conn = await amqp.connect(b.amqpUrl);
    const ch = await conn.createChannel();
    await ch.bindExchange(topic, 'amq.topic', 'orders.#');
    await conn.close();

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.broker.address('mqtt').port}`, { clientId: `m2k-${process.pid}`, reconnectPeriod: 0, username: 'guest', password: 'guest' });
    await client.publishAsync('orders/eu/42', 'an order', { qos: 1 });
    await client.endAsync();

    const consumer = b.client().consumer({ groupId: uniqueTopic('g'), maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: { partition: number; key: string | undefined; value: string | undefined }[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void got.push({ partition, key: message.key?.toString(), value: message.value?.toString() }) });
    try {
      await until(() => got.length >= 1);
    } finally {
      await consumer.disconnect();
    }
    const key = 'orders.eu.42';
    expect(got).toEqual([{ partition: partitionForKey(Buffer.from(key), 3), key, value: 'an order' }]);
  }, 60_000);
});
