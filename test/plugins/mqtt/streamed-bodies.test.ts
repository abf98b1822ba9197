/**
 * A body above `large_message_threshold` published over AMQP (written to the journal as its
 * frames arrive) and delivered to MQTT subscribers (MQTT.js, 3.1.1 and 5.0): the PUBLISH
 * header carries the real size and the payload is streamed from the journal; the packets sent
 * meanwhile (a second, ordinary delivery) follow it whole. A client whose Maximum Packet Size
 * is smaller does not get it (MQTT-3.1.2-25) and goes on with the next message.
 */
import { createHash, randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
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

describe('MQTT delivery of a body streamed through the journal', () => {
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
