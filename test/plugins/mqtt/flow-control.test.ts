/**
 * Outbound flow control with MQTT.js clients that hold their PUBACKs: an MQTT 5 client's
 * Receive Maximum is never exceeded (MQTT-3.3.4-9), an MQTT 3.1.1 client gets the default
 * window `mqtt.prefetch` (plugins/mqtt/README.md, Flow control), and an MQTT 5 client that
 * announces more than `mqtt.prefetch` is capped by it.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_CONFIG_SCHEMA } from '../../../plugins/mqtt/config.js';
import { Clients, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker();
  clients = new Clients(b.url);
});
const opened: RawClient[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) r.destroy();
  await clients.closeAll();
});
afterAll(() => b.stop());

/**
 * A subscriber whose PUBACKs wait until `release` (a raw mqtt-packet client: MQTT.js handles
 * one message at a time, so it cannot hold acks and go on reading). Counts the deliveries
 * unacknowledged at most.
 */
async function holdingSubscriber(port: number, topic: string, clientId: string, version: 4 | 5, properties?: Record<string, number>) {
  const raw = await RawClient.open(port, version);
  opened.push(raw);
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 0, ...(properties ? { properties } : {}) }, version);
  await raw.next('connack');
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] }, version);
  await raw.next('suback');
  const held: number[] = [];
  const state = { received: 0, outstanding: 0, maxOutstanding: 0 };
  raw.socket.on('data', () => {
    // the raw client parsed the packets of this read into raw.packets already (its listener came first)
    for (let i = raw.packets.length - 1; i >= 0; i--) {
      const p = raw.packets[i];
      if (p.cmd !== 'publish') continue;
      raw.packets.splice(i, 1);
      held.push(p.messageId!);
      state.received++;
      state.outstanding++;
    }
    if (state.outstanding > state.maxOutstanding) state.maxOutstanding = state.outstanding;
  });
  /** ack the `n` oldest held deliveries */
  const release = (n: number) => {
    for (const messageId of held.splice(0, n)) {
      state.outstanding--;
      raw.send({ cmd: 'puback', messageId }, version);
    }
  };
  return { state, release };
}

async function publishMany(publisher: MqttClient, topic: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => publisher.publishAsync(topic, `m${i}`, { qos: 1 })));
}

/**
 * Deliveries the broker has sent to `clientId`'s QoS 1 subscription and not had acknowledged:
 * once every publish was acknowledged (routed) and the subscriber has the window's worth, this
 * says whether the broker sent more, without waiting to see whether more arrive.
 */
const unacked = (broker: MqttTestBroker, clientId: string) => broker.broker.core.vhosts.get('/')!.queues.get(`mqtt-subscription-${clientId}qos1`)!.unackedCount;

/** wait until `cond` holds (or `ms` pass); the caller asserts */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(10);
}

describe('outbound QoS 1 window', () => {
  it('never has more unacknowledged deliveries than an MQTT 5 client\'s Receive Maximum of 5', async () => {
    const sub = await holdingSubscriber(b.tcpPort, 'fc/rm5', 'fc-rm5', 5, { receiveMaximum: 5 });
    const pub = await clients.connect({ clientId: 'fc-rm5-pub' });
    await publishMany(pub, 'fc/rm5', 60);
    await until(() => sub.state.received >= 5);
    expect(unacked(b, 'fc-rm5')).toBe(5);
    expect(sub.state.received).toBe(5);
    // acks in uneven chunks: each frees exactly that many places
    for (const chunk of [1, 3, 5, 2, 5, 4]) {
      const before = sub.state.received;
      sub.release(chunk);
      await until(() => sub.state.received >= before + chunk);
      // the acks were read (each let one more out): the broker holds the window again, no more
      expect(unacked(b, 'fc-rm5')).toBe(5);
      expect(sub.state.outstanding).toBeLessThanOrEqual(5);
    }
    // then ack as they come
    const deadline = Date.now() + 5000;
    while (sub.state.received < 60 && Date.now() < deadline) {
      sub.release(5);
      await sleep(5);
    }
    sub.release(5);
    expect(sub.state.received).toBe(60);
    expect(sub.state.maxOutstanding).toBe(5);
  });

  it('gives an MQTT 3.1.1 client the default window (mqtt.prefetch)', async () => {
    const window = MQTT_CONFIG_SCHEMA.prefetch.default;
    expect(window).toBeGreaterThanOrEqual(100); // a window that serves fan-in, not RabbitMQ's 10
    const sub = await holdingSubscriber(b.tcpPort, 'fc/v4', 'fc-v4', 4);
    const pub = await clients.connect({ clientId: 'fc-v4-pub' });
    await publishMany(pub, 'fc/v4', window + 40);
    await until(() => sub.state.received >= window);
    expect(unacked(b, 'fc-v4')).toBe(window);
    expect(sub.state.received).toBe(window);
    sub.release(10);
    await until(() => sub.state.received >= window + 10);
    expect(unacked(b, 'fc-v4')).toBe(window);
    expect(sub.state.received).toBe(window + 10);
    expect(sub.state.maxOutstanding).toBe(window);
  });

  it('caps an MQTT 5 client announcing more than mqtt.prefetch at mqtt.prefetch', async () => {
    const small = await startMqttBroker({ prefetch: 20 });
    const local = new Clients(small.url);
    try {
      const sub = await holdingSubscriber(small.tcpPort, 'fc/cap', 'fc-cap', 5, { receiveMaximum: 1000 });
      const pub = await local.connect({ clientId: 'fc-cap-pub' });
      await publishMany(pub, 'fc/cap', 50);
      await until(() => sub.state.received >= 20);
      expect(unacked(small, 'fc-cap')).toBe(20);
      expect(sub.state.received).toBe(20);
      sub.release(20);
      await until(() => sub.state.received >= 40);
      expect(sub.state.maxOutstanding).toBe(20);
    } finally {
      await local.closeAll();
      await small.stop();
    }
  });
});
