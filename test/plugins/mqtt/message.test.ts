import { describe, expect, it } from 'vitest';
import { TypedValue } from '../../../src/codec/types.js';
import { Message } from '../../../src/core/message.js';
import {
  publishedQos,
  publishedRetained,
  publishPropertiesOf,
  remainingExpirySeconds,
  toCoreMessage,
} from '../../../plugins/mqtt/message.js';

const body = Buffer.from('x');

describe('MQTT → core message (RabbitMQ mc_mqtt → AMQP 0-9-1)', () => {
  it('QoS 0 is transient, QoS ≥ 1 persistent', () => {
    const m0 = toCoreMessage('amq.topic', { routingKey: 'a.b', qos: 0, retain: false, dup: false, payload: body, properties: undefined }, false);
    const m1 = toCoreMessage('amq.topic', { routingKey: 'a.b', qos: 1, retain: false, dup: false, payload: body, properties: undefined }, false);
    const m2 = toCoreMessage('amq.topic', { routingKey: 'a.b', qos: 2, retain: false, dup: false, payload: body, properties: undefined }, false);
    expect(m0.persistent).toBe(false);
    expect(m1.persistent).toBe(true);
    expect(m2.persistent).toBe(true);
    expect([publishedQos(m0), publishedQos(m1), publishedQos(m2)]).toEqual([0, 1, 2]);
    // RabbitMQ's headers on every MQTT publish: the QoS as a byte, the DUP flag
    expect(m0.properties.headers).toEqual({ 'x-mqtt-publish-qos': new TypedValue('b', 0), 'x-mqtt-dup': false });
    expect(m2.properties.headers).toEqual({ 'x-mqtt-publish-qos': new TypedValue('b', 2), 'x-mqtt-dup': false });
    expect(m0.exchange).toBe('amq.topic');
    expect(m0.routingKey).toBe('a.b');
  });

  it('MQTT 5 properties become AMQP properties and headers', () => {
    const m = toCoreMessage(
      'amq.topic',
      {
        routingKey: 'req',
        qos: 1,
        retain: true,
        dup: false,
        payload: body,
        properties: {
          contentType: 'application/json',
          userProperties: { a: '1', dup: ['x', 'y'] },
          responseTopic: 'replies/client-1',
          correlationData: Buffer.from('corr-42'),
          messageExpiryInterval: 30,
          payloadFormatIndicator: true,
        },
      },
      false,
    );
    expect(m.properties.contentType).toBe('application/json');
    expect(m.properties.replyTo).toBe('replies.client-1');
    expect(m.properties.correlationId).toBe('corr-42');
    expect(m.properties.expiration).toBe('30000');
    expect(m.ttl).toBe(30000);
    expect(m.properties.headers).toMatchObject({ a: '1', dup: ['x', 'y'], 'x-reply-to-topic': 'replies.client-1', 'x-mqtt-retain': true });
    expect(publishedRetained(m)).toBe(true);
  });

  it('binary correlation data goes to the x-correlation-id header', () => {
    const data = Buffer.from([0xff, 0x00, 0x01]);
    const m = toCoreMessage('amq.topic', { routingKey: 'r', qos: 0, retain: false, dup: false, payload: body, properties: { correlationData: data } }, false);
    expect(m.properties.correlationId).toBeUndefined();
    expect(m.properties.headers?.['x-correlation-id']).toEqual(data);
    expect(publishPropertiesOf(m, false)?.correlationData).toEqual(data);
  });
});

describe('core message → MQTT 5 properties', () => {
  it('maps an AMQP message the other way', () => {
    const m = new Message('amq.topic', 'a.b', {
      contentType: 'text/plain',
      correlationId: 'c1',
      headers: { 'x-reply-to-topic': 'resp.x', n: 5, flag: true, when: new Date(2000_000), nested: { a: 1 }, raw: Buffer.from('b'), 'x-mqtt-publish-qos': 2 },
      deliveryMode: 2,
    }, body);
    const p = publishPropertiesOf(m, false)!;
    expect(p.contentType).toBe('text/plain');
    expect(p.responseTopic).toBe('resp/x');
    expect(p.correlationData?.toString()).toBe('c1');
    expect(p.userProperties).toEqual({ n: '5', flag: 'true', when: '2000' });
    expect(Object.isFrozen(p)).toBe(true);
    expect(publishedQos(m)).toBe(2);
  });

  it('an AMQP reply-to becomes the response topic when no x-reply-to-topic is set', () => {
    const m = new Message('amq.topic', 'a', { replyTo: 'replies.one' }, body);
    expect(publishPropertiesOf(m, false)?.responseTopic).toBe('replies/one');
  });

  it('counts the message expiry down (MQTT-3.3.2-6)', () => {
    const m = new Message('amq.topic', 'a', { expiration: '10000' }, body, null, 1_000_000);
    expect(remainingExpirySeconds(m, 1_000_000)).toBe(10);
    expect(remainingExpirySeconds(m, 1_004_500)).toBe(6);
    expect(remainingExpirySeconds(new Message('amq.topic', 'a', {}, body), Date.now())).toBeUndefined();
  });
});
