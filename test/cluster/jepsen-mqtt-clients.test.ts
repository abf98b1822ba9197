/**
 * The Jepsen run's MQTT subscriber (test/helpers/jepsen/mqtt-clients.ts) on one broker, no
 * cluster: a persistent session with a backlog gets its queued messages right after the
 * CONNACK, often in the same TCP segment, before the client subscribes again (MQTT 3.1.1
 * §4.4, the session is kept). MQTT.js handles the packets of one segment on process.nextTick
 * and PUBACKs a QoS 1 message whether or not anyone listens, so the subscriber must listen
 * before the CONNACK arrives; a listener added after `connect` misses those messages while
 * the broker rightly counts them acknowledged — what made failovers look like lost messages.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/free-port.js';
import { History } from '../helpers/jepsen/history.js';
import { MqttSubscriber } from '../helpers/jepsen/mqtt-clients.js';
import { startMqttBroker, type MqttTestBroker } from '../plugins/mqtt/helpers.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker();
});
afterAll(async () => {
  await b?.stop();
});

describe('Jepsen MQTT subscriber', () => {
  it('records every message a kept session delivers with its CONNACK', async () => {
    const url = `mqtt://127.0.0.1:${b.tcpPort}`;
    const history = new History();
    const subscriber = new MqttSubscriber({ randomMqttUrl: () => url }, 'backlog', 'backlog/t', history);
    await subscriber.subscribeFirst();
    const pub = await mqtt.connectAsync(url, { clientId: 'backlog-pub', username: 'guest', password: 'guest' });
    for (let i = 0; i < 200; i++) {
      history.sent(`p:${i}`);
      await pub.publishAsync('backlog/t', `p:${i}`, { qos: 1 });
      history.confirmed(`p:${i}`, 0);
    }
    await pub.endAsync();
    subscriber.start();
    try {
      await until('the backlog acknowledged by the subscriber', () => b.broker.core.vhosts.get('/')!.queues.get(subscriber.queue)?.messageCount === 0, 15_000);
      await until(() => `every message recorded (${history.deliveryCount} of 200)`, () => history.verdict().lost === 0, 5_000).catch(() => undefined);
    } finally {
      await subscriber.stop();
    }
    const v = history.verdict();
    expect(v.lostIds).toEqual([]);
    expect(v.delivered).toBe(200);
  }, 30_000);
});
