/**
 * Cross-protocol: MQTT publishes reach AMQP consumers with RabbitMQ's property mapping, and
 * AMQP publishes to amq.topic reach MQTT subscribers. With amqplib over the AMQP plugin
 * when it is there; the same mapping is also checked at the core's session API (what every
 * front-end sees), which needs no other plugin.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionHandler } from '../../../src/core/api.js';
import { Message } from '../../../src/core/message.js';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker({}, { amqp: true });
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

describe('at the core session API', () => {
  function coreConsumer(queue: string, bindingKey: string) {
    const got: { message: Message; tag: number }[] = [];
    const handler: SessionHandler = {
      deliver: (_c, tag, _r, message) => got.push({ message, tag }),
      consumerCancelled() {},
      returned() {},
      confirmed() {},
    };
    const conn = b.broker.core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 0 });
    const session = conn.openSession(handler);
    session.declareQueue(queue, { exclusive: true });
    session.bindQueue(queue, 'amq.topic', bindingKey);
    session.consume(queue, { noAck: true });
    return { got, session, close: () => conn.close() };
  }

  it('an MQTT 5 publish arrives as a persistent message with headers, reply-to and correlation-id', async () => {
    const consumer = coreConsumer('xp-core-1', 'xp.core.#');
    try {
      const c = await clients.connect({ clientId: 'xp-core-pub', protocolVersion: 5 });
      await c.publishAsync('xp/core/a', 'payload', {
        qos: 1,
        properties: { userProperties: { site: 'lab' }, contentType: 'text/plain', responseTopic: 'xp/replies', correlationData: Buffer.from('c-1'), messageExpiryInterval: 60 },
      });
      await sleep(50);
      expect(consumer.got).toHaveLength(1);
      const m = consumer.got[0].message;
      expect(m.routingKey).toBe('xp.core.a');
      expect(m.body.toString()).toBe('payload');
      expect(m.properties).toMatchObject({ deliveryMode: 2, contentType: 'text/plain', replyTo: 'xp.replies', correlationId: 'c-1', expiration: '60000' });
      expect(m.properties.headers).toMatchObject({ site: 'lab', 'x-reply-to-topic': 'xp.replies' });
    } finally {
      consumer.close();
    }
  });

  it('a message published by another front-end to amq.topic reaches MQTT subscribers', async () => {
    const sub = await clients.connect({ clientId: 'xp-core-sub', protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('xp/from-core/+', { qos: 1 });
    const conn = b.broker.core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 0 });
    const session = conn.openSession({ deliver() {}, consumerCancelled() {}, returned() {}, confirmed() {} });
    session.publish(new Message('amq.topic', 'xp.from-core.x', { deliveryMode: 2, contentType: 'application/json', headers: { n: 3 }, correlationId: 'k' }, Buffer.from('{}')), false);
    conn.close();
    await inbox.waitFor(1);
    const m = inbox.messages[0];
    expect(m.topic).toBe('xp/from-core/x');
    expect(m.packet.qos).toBe(1);
    expect(m.packet.properties).toMatchObject({ contentType: 'application/json', userProperties: { n: '3' } });
    expect(m.packet.properties?.correlationData?.toString()).toBe('k');
  });
});

describe('with amqplib over the AMQP plugin', () => {
  it('MQTT → AMQP: QoS 1 is persistent, user properties are headers, response topic and correlation data map', async () => {
    const conn = await amqp.connect(b.amqpUrl!);
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, 'amq.topic', 'xp.amqp.#');
      const received = new Promise<amqp.ConsumeMessage>((resolve) => ch.consume(queue, (m) => m && resolve(m), { noAck: true }));
      const c = await clients.connect({ clientId: 'xp-amqp-pub', protocolVersion: 5 });
      await c.publishAsync('xp/amqp/dev1', 'reading', {
        qos: 1,
        properties: { userProperties: { unit: 'C' }, responseTopic: 'xp/amqp-replies/dev1', correlationData: Buffer.from('r-7') },
      });
      const m = await received;
      expect(m.fields.routingKey).toBe('xp.amqp.dev1');
      expect(m.content.toString()).toBe('reading');
      expect(m.properties.deliveryMode).toBe(2);
      expect(m.properties.headers).toMatchObject({ unit: 'C', 'x-reply-to-topic': 'xp.amqp-replies.dev1' });
      expect(m.properties.replyTo).toBe('xp.amqp-replies.dev1');
      expect(m.properties.correlationId).toBe('r-7');

      const q0 = new Promise<amqp.ConsumeMessage>((resolve) => {
        void ch.assertQueue('', { exclusive: true }).then(async ({ queue: q }) => {
          await ch.bindQueue(q, 'amq.topic', 'xp.amqp0');
          await ch.consume(q, (msg) => msg && resolve(msg), { noAck: true });
          await c.publishAsync('xp/amqp0', 'fire and forget', { qos: 0 });
        });
      });
      expect((await q0).properties.deliveryMode).toBe(1);
    } finally {
      await conn.close();
    }
  });

  it('AMQP → MQTT: a publish to amq.topic reaches MQTT 3.1.1 and 5.0 subscribers, with its properties', async () => {
    const s4 = await clients.connect({ clientId: 'xp-s4', protocolVersion: 4 });
    const s5 = await clients.connect({ clientId: 'xp-s5', protocolVersion: 5 });
    const in4 = new Inbox(s4);
    const in5 = new Inbox(s5);
    await s4.subscribeAsync('xp/to-mqtt/#', { qos: 1 });
    await s5.subscribeAsync('xp/to-mqtt/+/temp', { qos: 2 });
    const conn = await amqp.connect(b.amqpUrl!);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish('amq.topic', 'xp.to-mqtt.hall.temp', Buffer.from('20.5'), {
        persistent: true,
        contentType: 'text/plain',
        correlationId: 'corr',
        headers: { sensor: 'h1', count: 2 },
        expiration: '60000',
      });
      ch.publish('amq.topic', 'xp.to-mqtt.hall.temp', Buffer.from('transient'), { persistent: false });
      await ch.waitForConfirms();
      await in4.waitFor(2);
      await in5.waitFor(2);
      expect(in4.messages.map((m) => [m.topic, m.payload, m.packet.qos])).toEqual([
        ['xp/to-mqtt/hall/temp', '20.5', 1],
        ['xp/to-mqtt/hall/temp', 'transient', 0],
      ]);
      const p = in5.messages[0].packet;
      expect(p.qos).toBe(1); // persistent AMQP messages are QoS 1
      expect(p.properties?.contentType).toBe('text/plain');
      expect(p.properties?.correlationData?.toString()).toBe('corr');
      expect(p.properties?.userProperties).toEqual({ sensor: 'h1', count: '2' });
      expect(p.properties?.messageExpiryInterval).toBeGreaterThanOrEqual(59);
    } finally {
      await conn.close();
    }
  });

  it('an AMQP consumer acks what MQTT QoS 1 publishers sent to a durable queue', async () => {
    const conn = await amqp.connect(b.amqpUrl!);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('xp-durable', { durable: true });
      await ch.bindQueue('xp-durable', 'amq.topic', 'xp.durable');
      const c = await clients.connect({ clientId: 'xp-dur-pub' });
      for (let i = 0; i < 5; i++) await c.publishAsync('xp/durable', `n${i}`, { qos: 1 });
      const got: string[] = [];
      for (let i = 0; i < 5; i++) {
        const m = await ch.get('xp-durable');
        if (m) {
          got.push(m.content.toString());
          ch.ack(m);
        }
      }
      expect(got).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
      await ch.deleteQueue('xp-durable');
    } finally {
      await conn.close();
    }
  });
});
