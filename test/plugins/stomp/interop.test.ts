/**
 * Cross-protocol: STOMP with AMQP 0-9-1 (amqplib) and MQTT (MQTT.js) on one broker.
 * Properties and headers cross as RabbitMQ maps them; replies find their way back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { eventually, RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker({}, { plugins: ['amqp', 'mqtt'] });
});
afterAll(async () => {
  await b?.stop();
});

describe('STOMP ↔ AMQP 0-9-1 (amqplib)', () => {
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  beforeAll(async () => {
    conn = await amqp.connect(b.amqpUrl!);
    ch = await conn.createChannel();
  });
  afterAll(async () => {
    await conn?.close().catch(() => undefined);
  });

  it('STOMP SEND → AMQP consumer: headers become properties and the headers table', async () => {
    const q = uniqueName('s2a');
    await ch.assertQueue(q, { durable: true });
    const [s] = await RawClient.login(b.tcpPort);
    s.send(
      'SEND',
      {
        destination: `/queue/${q}`,
        receipt: 'r',
        'content-type': 'application/json',
        'content-encoding': 'utf-8',
        persistent: 'true',
        priority: '6',
        'correlation-id': 'corr-1',
        'reply-to': '/temp-queue/back',
        expiration: '60000',
        'amqp-message-id': 'msg-1',
        timestamp: '1700000000',
        type: 'evt',
        'app-id': 'stomp-app',
        'x-custom': 'hello',
      },
      '{"a":1}',
    );
    await s.until('RECEIPT');
    const got = await ch.get(q, { noAck: true });
    expect(got).not.toBe(false);
    if (!got) return;
    expect(got.content.toString()).toBe('{"a":1}');
    const p = got.properties;
    expect(p.contentType).toBe('application/json');
    expect(p.contentEncoding).toBe('utf-8');
    expect(p.deliveryMode).toBe(2);
    expect(p.priority).toBe(6);
    expect(p.correlationId).toBe('corr-1');
    expect(p.replyTo).toMatch(/^amq\.gen-/); // the temp queue's real name, for a default-exchange reply
    expect(p.expiration).toBe('60000');
    expect(p.messageId).toBe('msg-1');
    expect(p.timestamp).toBe(1700000000);
    expect(p.type).toBe('evt');
    expect(p.appId).toBe('stomp-app');
    expect(p.headers).toMatchObject({ 'x-custom': 'hello' });
    s.close();
  });

  it('AMQP publish → STOMP MESSAGE: properties become headers; destination per exchange', async () => {
    const q = uniqueName('a2s');
    const [s] = await RawClient.login(b.tcpPort);
    s.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 'q', receipt: 'r1' });
    s.send('SUBSCRIBE', { destination: '/topic/interop.*', id: 't', receipt: 'r2' });
    await s.until('RECEIPT');
    await s.until('RECEIPT');
    ch.sendToQueue(q, Buffer.from('from amqp'), {
      contentType: 'text/plain',
      persistent: true,
      priority: 2,
      correlationId: 'c',
      replyTo: 'my-replies',
      messageId: 'm-7',
      timestamp: 1234,
      type: 'ty',
      appId: 'app',
      headers: { s: 'text', n: 42, flag: true },
    });
    const m = await s.next();
    expect(m.headers).toMatchObject({
      subscription: 'q',
      destination: `/queue/${q}`,
      'content-type': 'text/plain',
      persistent: 'true',
      priority: '2',
      'correlation-id': 'c',
      'reply-to': '/reply-queue/my-replies',
      'amqp-message-id': 'm-7',
      timestamp: '1234',
      type: 'ty',
      'app-id': 'app',
      s: 'text',
      n: '42',
      flag: 'true',
      'content-length': '9',
    });
    expect(m.body.toString()).toBe('from amqp');
    ch.publish('amq.topic', 'interop.x', Buffer.from('topic'));
    const t = await s.next();
    expect(t.headers['destination']).toBe('/topic/interop.x');
    expect(t.headers['subscription']).toBe('t');
    s.close();
  });

  it('RPC: a STOMP requester with /temp-queue/ reply-to, an AMQP server replying to reply_to', async () => {
    const service = uniqueName('rpc-amqp');
    await ch.assertQueue(service, { durable: false });
    await ch.consume(service, (msg) => {
      if (!msg) return;
      ch.sendToQueue(msg.properties.replyTo, Buffer.from(msg.content.toString().toUpperCase()), {
        correlationId: msg.properties.correlationId,
      });
      ch.ack(msg);
    });
    const [s] = await RawClient.login(b.tcpPort);
    s.send('SEND', { destination: `/amq/queue/${service}`, 'reply-to': '/temp-queue/rpc', 'correlation-id': 'q1' }, 'ping');
    const reply = await s.next();
    expect(reply.body.toString()).toBe('PING');
    expect(reply.headers['subscription']).toBe('/temp-queue/rpc');
    expect(reply.headers['correlation-id']).toBe('q1');
    s.close();
  });

  it('RPC: an AMQP requester (direct reply-to), a STOMP server replying to /reply-queue/…', async () => {
    const service = uniqueName('rpc-stomp');
    const [s] = await RawClient.login(b.tcpPort);
    s.send('SUBSCRIBE', { destination: `/queue/${service}`, id: 'srv', receipt: 'r' });
    await s.until('RECEIPT');
    const replies: string[] = [];
    await ch.consume('amq.rabbitmq.reply-to', (msg) => msg && replies.push(msg.content.toString()), { noAck: true });
    ch.sendToQueue(service, Buffer.from('question'), { replyTo: 'amq.rabbitmq.reply-to' });
    const req = await s.next();
    expect(req.headers['reply-to']).toMatch(/^\/reply-queue\/amq\.rabbitmq\.reply-to\./);
    s.send('SEND', { destination: req.headers['reply-to']! }, 'answer');
    await eventually(() => replies.length === 1);
    expect(replies).toEqual(['answer']);
    s.close();
  });

  it('a STOMP NACK requeues for an AMQP consumer (redelivered), a STOMP ACK settles', async () => {
    const q = uniqueName('nack');
    const [s] = await RawClient.login(b.tcpPort);
    s.send('SUBSCRIBE', { destination: `/queue/${q}`, id: 'x', ack: 'client-individual', receipt: 'r' });
    await s.until('RECEIPT');
    ch.sendToQueue(q, Buffer.from('twice'));
    const m = await s.next();
    s.send('UNSUBSCRIBE', { id: 'x' });
    s.send('NACK', { id: m.headers['ack']!, receipt: 'n' });
    await s.until('RECEIPT');
    const got = await ch.get(q, { noAck: true });
    expect(got && got.fields.redelivered).toBe(true);
    s.close();
  });
});

describe('STOMP ↔ MQTT (MQTT.js)', () => {
  it('MQTT publish a/b → STOMP /topic/a.b, and STOMP SEND /topic/a.b → MQTT subscriber of a/b', async () => {
    const mqtt = await import('mqtt');
    const topic = uniqueName('m').replace(/-/g, '_');
    const client = await mqtt.connectAsync(b.mqttUrl!, { clientId: uniqueName('c'), username: 'guest', password: 'guest' });
    const fromStomp: string[] = [];
    client.on('message', (_t: string, payload: Buffer) => fromStomp.push(payload.toString()));
    await client.subscribeAsync(`${topic}/b`, { qos: 1 });

    const [s] = await RawClient.login(b.tcpPort);
    s.send('SUBSCRIBE', { destination: `/topic/${topic}.b`, id: 'm', receipt: 'r' });
    await s.until('RECEIPT');
    await client.publishAsync(`${topic}/b`, 'from mqtt', { qos: 1 });
    const m = (await s.until('MESSAGE')).pop()!;
    expect(m.body.toString()).toBe('from mqtt');
    expect(m.headers['destination']).toBe(`/topic/${topic}.b`);

    s.send('SEND', { destination: `/topic/${topic}.b` }, 'from stomp');
    await eventually(() => fromStomp.includes('from stomp'));
    s.close();
    await client.endAsync();
  });
});
