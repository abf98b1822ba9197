/**
 * MQTT bodies above `large_message_threshold`. A PUBLISH's payload is written to the journal
 * as it arrives (not buffered whole by the packet parser) and reaches AMQP and MQTT consumers
 * intact. A body published over AMQP (written to the journal as its frames arrive) and
 * delivered to MQTT subscribers (MQTT.js, 3.1.1 and 5.0): the PUBLISH
 * header carries the real size and the payload is streamed from the journal; the packets sent
 * meanwhile (a second, ordinary delivery) follow it whole. A client whose Maximum Packet Size
 * is smaller does not get it (MQTT-3.1.2-25) and goes on with the next message.
 */
import { createHash, randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileStore } from '../../../src/store/file-store.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';

const MiB = 1024 * 1024;
let b: ThreeProtocolBroker | null = null;
const clients: MqttClient[] = [];
let conn: ChannelModel | null = null;

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  await conn?.close().catch(() => undefined);
  conn = null;
  await b?.stop();
  b = null;
});

const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

async function subscriber(port: number, version: 4 | 5, properties?: { maximumPacketSize: number }): Promise<{ client: MqttClient; got: Buffer[] }> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: version, clientId: `big-${version}-${properties ? 'small' : 'any'}`, reconnectPeriod: 0, properties });
  clients.push(client);
  const got: Buffer[] = [];
  client.on('message', (_topic, payload) => got.push(Buffer.from(payload)));
  await client.subscribeAsync('big/#', { qos: 1 });
  return { client, got };
}

describe('MQTT delivery of a body streamed through the journal', { timeout: 60_000 }, () => {
  it('published on AMQP, received whole by MQTT 3.1.1 and 5.0 subscribers, the next message after it', async () => {
    b = await startThreeProtocols({ largeMessageThreshold: MiB });
    const v4 = await subscriber(b.mqttPort, 4);
    const v5 = await subscriber(b.mqttPort, 5);
    const small = await subscriber(b.mqttPort, 5, { maximumPacketSize: 64 * 1024 });
    conn = await amqp.connect(b.amqpUrl());
    const ch = await conn.createConfirmChannel();
    const big = randomBytes(3 * MiB + 11);
    ch.publish('amq.topic', 'big.one', big, { persistent: true });
    ch.publish('amq.topic', 'big.two', Buffer.from('two'), { persistent: true });
    await ch.waitForConfirms();
    const until = Date.now() + 30_000;
    while ((v4.got.length < 2 || v5.got.length < 2 || small.got.length < 1) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of [v4, v5]) {
      expect(s.got.length).toBe(2);
      expect(s.got[0].length).toBe(big.length);
      expect(sha(s.got[0])).toBe(sha(big));
      expect(s.got[1].toString()).toBe('two');
    }
    // too large for this client: left out, the next one still comes
    expect(small.got.map((p) => p.toString())).toEqual(['two']);
  });
});

describe('MQTT PUBLISH of a payload above the threshold', { timeout: 60_000 }, () => {
  it.each([4, 5] as const)('MQTT %s: the payload streams to the journal as it arrives and reaches an AMQP consumer and an MQTT subscriber intact', async (version) => {
    b = await startThreeProtocols({ largeMessageThreshold: MiB });
    const sub = await subscriber(b.mqttPort, 5);
    conn = await amqp.connect(b.amqpUrl());
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'amq.topic', 'big.#');
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: b.mqttPort, protocolVersion: version, clientId: `big-pub-${version}`, reconnectPeriod: 0 });
    clients.push(pub);
    const journal = b.broker.core.vhosts.get('/')!.store!.messages as FileStore;
    const partsBefore = journal.metrics().records.other;
    const big = randomBytes(5 * MiB + 3);
    const options = version === 5 ? { qos: 1 as const, properties: { contentType: 'application/x-big', userProperties: { kind: 'scan' } } } : { qos: 1 as const };
    await pub.publishAsync('big/in', big, options); // PUBACK: stored
    await pub.publishAsync('big/after', 'after', { qos: 1 });
    expect(journal.metrics().records.other - partsBefore).toBe(Math.ceil(big.length / (256 * 1024)));
    const got = await new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume(q.queue, (m) => m && resolve(m), { noAck: true }));
    expect(got.fields.routingKey).toBe('big.in');
    expect(sha(got.content)).toBe(sha(big));
    if (version === 5) expect(got.properties.contentType).toBe('application/x-big');
    const until = Date.now() + 30_000;
    while (sub.got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(sha(sub.got[0])).toBe(sha(big));
    expect(sub.got[1].toString()).toBe('after');
  });
});
