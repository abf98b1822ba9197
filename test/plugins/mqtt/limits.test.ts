/**
 * Limits as MQTT clients see them: the core's connection and channel limits refuse
 * CONNECT with 0x97 Quota exceeded (5.0) or return code 3 Server unavailable (3.1.1), which a
 * missing vhost permission does not get mistaken for; the vhost queue limit refuses a
 * SUBSCRIBE that needs a new queue (0x97 in its SUBACK); packet size limits after CONNECT.
 */
import { resetLimits } from '../../helpers/limits.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IConnackPacket, ISubackPacket } from 'mqtt-packet';
import { CONNECT_V4, CONNECT_V5, RawClient, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
const open: RawClient[] = [];
beforeAll(async () => {
  b = await startMqttBroker({ max_packet_size_authenticated: 2048 });
});
afterEach(async () => {
  for (const r of open.splice(0)) r.destroy();
  await resetLimits(b.broker.core);
});
afterAll(async () => {
  await b?.stop();
});

async function connect(version: 4 | 5, clientId: string, extra: Record<string, unknown> = {}): Promise<[RawClient, IConnackPacket]> {
  const raw = await RawClient.open(b.tcpPort, version);
  open.push(raw);
  raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId, ...extra }, version);
  return [raw, (await raw.next('connack')) as IConnackPacket];
}

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const refused = (connack: IConnackPacket) => (version === 5 ? connack.reasonCode : connack.returnCode);

  it('a connection past the vhost connection limit is refused: 0x97 / 3, and the connection closed', async () => {
    const [, ok] = await connect(version, `first-${version}`);
    expect(refused(ok)).toBe(0);
    b.broker.core.limits.setVhostLimits('/', { maxConnections: 1 });
    const [raw, connack] = await connect(version, `second-${version}`);
    expect(refused(connack)).toBe(version === 5 ? 0x97 : 3);
    expect(await raw.waitClosed()).toBe(true);
  });

  it('the node-wide and per-user connection limits are refused the same way', async () => {
    const base = b.broker.core.connections.size;
    b.broker.core.limits.maxConnections = base;
    expect(refused((await connect(version, `node-${version}`))[1])).toBe(version === 5 ? 0x97 : 3);
    b.broker.core.limits.maxConnections = -1;
    b.broker.core.limits.setUserLimits('guest', { maxConnections: 0 });
    expect(refused((await connect(version, `user-${version}`))[1])).toBe(version === 5 ? 0x97 : 3);
  });

  it("the user's channel limit (an MQTT connection holds one session) refuses CONNECT, and leaves no core connection behind", async () => {
    const before = b.broker.core.connections.size;
    b.broker.core.limits.setUserLimits('guest', { maxChannels: 0 });
    const [raw, connack] = await connect(version, `channels-${version}`);
    expect(refused(connack)).toBe(version === 5 ? 0x97 : 3);
    expect(await raw.waitClosed()).toBe(true);
    expect(b.broker.core.connections.size).toBe(before);
  });

  it('no permission on the vhost is "not authorized", not a quota', async () => {
    b.broker.core.addVhost(`bare-${version}`);
    const [, connack] = await connect(version, `bare-${version}`, { username: `bare-${version}:guest`, password: Buffer.from('guest') });
    expect(refused(connack)).toBe(version === 5 ? 0x87 : 5);
  });

  it('a SUBSCRIBE that needs a queue past the vhost queue limit fails in its SUBACK (0x97 / 0x80); the connection carries on', async () => {
    const [raw] = await connect(version, `queues-${version}`);
    b.broker.core.limits.setVhostLimits('/', { maxQueues: b.broker.core.vhosts.get('/')!.queues.size });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'limits/q', qos: 1 }] }, version);
    const suback = (await raw.next('suback')) as ISubackPacket;
    expect(suback.granted).toEqual([version === 5 ? 0x97 : 0x80]);
    raw.send({ cmd: 'pingreq' }, version);
    await raw.next('pingresp');
  });

  it('a packet above max_packet_size_authenticated ends the connection (5.0: DISCONNECT 0x95 first)', async () => {
    const [raw] = await connect(version, `big-${version}`);
    raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(4000), qos: 0, retain: false, dup: false }, version);
    if (version === 5) expect((await raw.next('disconnect')).reasonCode).toBe(0x95);
    expect(await raw.waitClosed()).toBe(true);
  });
});
