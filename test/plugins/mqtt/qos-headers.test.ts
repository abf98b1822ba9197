/**
 * The `x-mqtt-publish-qos` and `x-mqtt-dup` headers, as RabbitMQ's MQTT plugin sets them: an
 * MQTT publish reaches AMQP consumers with both, and an AMQP message's `x-mqtt-publish-qos`
 * decides its MQTT QoS before its delivery mode, so QoS survives a trip through AMQP.
 * MQTT.js, a raw MQTT client (for the DUP flag) and amqplib against one broker.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TypedValue } from '../../../src/codec/types.js';
import type { SessionHandler } from '../../../src/core/api.js';
import type { Message } from '../../../src/core/message.js';
import { Clients, CONNECT_V4, Inbox, RawClient, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
let conn: amqp.ChannelModel;
beforeAll(async () => {
  b = await startMqttBroker({}, { amqp: true });
  clients = new Clients(b.url);
  conn = await amqp.connect(b.amqpUrl!);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await conn?.close();
  await b?.stop();
});

/** An AMQP consumer on a fresh queue bound to amq.topic with `key`; resolves each message in turn. */
async function amqpConsumer(key: string) {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'amq.topic', key);
  const got: amqp.ConsumeMessage[] = [];
  await ch.consume(queue, (m) => m && got.push(m), { noAck: true });
  const next = async (n: number) => {
    for (let i = 0; i < 300 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got.length).toBeGreaterThanOrEqual(n);
    return got;
  };
  return { ch, next };
}

describe('MQTT → AMQP', () => {
  it('every publish carries x-mqtt-publish-qos (0, 1, 2) and x-mqtt-dup false', async () => {
    const consumer = await amqpConsumer('qh.pub.#');
    const c = await clients.connect({ clientId: 'qh-pub', protocolVersion: 4 });
    await c.publishAsync('qh/pub/0', 'q0', { qos: 0 });
    await c.publishAsync('qh/pub/1', 'q1', { qos: 1 });
    await c.publishAsync('qh/pub/2', 'q2', { qos: 2 });
    const got = await consumer.next(3);
    expect(got.map((m) => [m.content.toString(), m.properties.headers?.['x-mqtt-publish-qos'], m.properties.headers?.['x-mqtt-dup'], m.properties.deliveryMode])).toEqual([
      ['q0', 0, false, 1],
      ['q1', 1, false, 2],
      ['q2', 2, false, 2],
    ]);
    await consumer.ch.close();
  });

  it('MQTT 5 publishes with properties carry them too, beside the user properties', async () => {
    const consumer = await amqpConsumer('qh.props');
    const c = await clients.connect({ clientId: 'qh-pub5', protocolVersion: 5 });
    await c.publishAsync('qh/props', 'p', { qos: 2, properties: { userProperties: { site: 'lab' }, contentType: 'text/plain' } });
    const [m] = await consumer.next(1);
    expect(m.properties.headers).toMatchObject({ site: 'lab', 'x-mqtt-publish-qos': 2, 'x-mqtt-dup': false });
    await consumer.ch.close();
  });

  it('a resent PUBLISH (DUP flag set) arrives with x-mqtt-dup true', async () => {
    const consumer = await amqpConsumer('qh.dup');
    const raw = await RawClient.open(b.tcpPort);
    try {
      raw.send({ ...CONNECT_V4, clientId: 'qh-raw' });
      await raw.next('connack');
      raw.send({ cmd: 'publish', topic: 'qh/dup', payload: Buffer.from('again'), qos: 1, dup: true, retain: false, messageId: 7 });
      expect((await raw.next('puback')).messageId).toBe(7);
      const [m] = await consumer.next(1);
      expect(m.properties.headers).toMatchObject({ 'x-mqtt-publish-qos': 1, 'x-mqtt-dup': true });
    } finally {
      raw.destroy();
      await consumer.ch.close();
    }
  });

  it('x-mqtt-publish-qos is a byte (field type b) and x-mqtt-dup a boolean, as RabbitMQ writes them', async () => {
    const got: Message[] = [];
    const handler: SessionHandler = { deliver: (_c, _t, _r, m) => got.push(m), consumerCancelled() {}, returned() {}, confirmed() {} };
    const core = b.broker.core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 0 });
    try {
      const s = core.openSession(handler);
      s.declareQueue('qh-core', { exclusive: true });
      s.bindQueue('qh-core', 'amq.topic', 'qh.core');
      s.consume('qh-core', { noAck: true });
      const c = await clients.connect({ clientId: 'qh-core-pub' });
      await c.publishAsync('qh/core', 'x', { qos: 1 });
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const h = got[0].properties.headers!;
      expect(h['x-mqtt-publish-qos']).toEqual(new TypedValue('b', 1));
      expect(h['x-mqtt-dup']).toBe(false);
    } finally {
      core.close();
    }
  });
});

describe('AMQP → MQTT', () => {
  async function subscriber(clientId: string, filter: string) {
    const c = await clients.connect({ clientId, protocolVersion: 5 });
    const inbox = new Inbox(c);
    await c.subscribeAsync(filter, { qos: 2 });
    return inbox;
  }

  it('x-mqtt-publish-qos decides the QoS before the delivery mode', async () => {
    const inbox = await subscriber('qh-sub', 'qh/in/+');
    const ch = await conn.createConfirmChannel();
    ch.publish('amq.topic', 'qh.in.a', Buffer.from('two'), { persistent: false, headers: { 'x-mqtt-publish-qos': 2 } });
    ch.publish('amq.topic', 'qh.in.b', Buffer.from('zero'), { persistent: true, headers: { 'x-mqtt-publish-qos': 0 } });
    ch.publish('amq.topic', 'qh.in.c', Buffer.from('one'), { persistent: false, headers: { 'x-mqtt-publish-qos': 1 } });
    ch.publish('amq.topic', 'qh.in.d', Buffer.from('persistent'), { persistent: true });
    ch.publish('amq.topic', 'qh.in.e', Buffer.from('transient'), { persistent: false });
    await ch.waitForConfirms();
    await inbox.waitFor(5);
    // MQTT.js hands a QoS 2 message over after PUBREL: compare regardless of arrival order
    expect(inbox.messages.map((m) => [m.payload, m.packet.qos]).sort()).toEqual([
      ['one', 1],
      ['persistent', 1],
      ['transient', 0],
      ['two', 2],
      ['zero', 0],
    ]);
    // the x-mqtt- headers are the broker's, not user properties
    for (const m of inbox.messages) expect(m.packet.properties?.userProperties).toBeUndefined();
    await ch.close();
  });

  it('a QoS 2 publish relayed by an AMQP client (properties kept) reaches MQTT at QoS 2 again', async () => {
    const inbox = await subscriber('qh-round', 'qh/out/#');
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'qh.relay.*');
    // the relay: what arrives on qh.relay.<x> is published again to qh.out.<x>, properties as they came
    await ch.consume(queue, (m) => {
      if (!m) return;
      ch.publish('amq.topic', m.fields.routingKey.replace('qh.relay', 'qh.out'), m.content, m.properties);
      ch.ack(m);
    });
    const pub = await clients.connect({ clientId: 'qh-round-pub', protocolVersion: 4 });
    await pub.publishAsync('qh/relay/q2', 'exactly once', { qos: 2 });
    await pub.publishAsync('qh/relay/q0', 'at most once', { qos: 0 });
    await inbox.waitFor(2);
    expect(inbox.messages.map((m) => [m.topic, m.payload, m.packet.qos]).sort()).toEqual([
      ['qh/out/q0', 'at most once', 0],
      ['qh/out/q2', 'exactly once', 2],
    ]);
    await ch.close();
  });
});
