/**
 * Permissions over MQTT 3.1.1 and 5.0, as rabbit_mqtt_processor applies them: SUBSCRIBE needs
 * configure, write and read on the subscription queue, read on amq.topic and topic read on the
 * filter; PUBLISH needs write on amq.topic and topic write on the topic. Topic permissions
 * expand {username} and {client_id}. A refused subscription is SUBACK 0x80 (3.1.1) / 0x87
 * (5.0) for that filter; a refused QoS 1 publish is PUBACK 0x87 in 5.0 and ends a 3.1.1
 * connection (it has no negative ack).
 */
import type { IConnackPacket, IPubackPacket, ISubackPacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import type { VhostPermission } from '../../src/auth/permissions.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { CONNECT_V4, CONNECT_V5, RawClient } from '../plugins/mqtt/helpers.js';

const FULL: VhostPermission = {
  configure: '^mqtt-subscription-',
  write: '^(mqtt-subscription-.*|amq\\.topic)$',
  read: '^(mqtt-subscription-.*|amq\\.topic)$',
};

let b: ThreeProtocolBroker;
const open: RawClient[] = [];
let n = 0;

beforeAll(async () => {
  b = await startThreeProtocols({ auth: { failureDelay: 0 } });
  b.broker.core.putUser({ name: 'mia', passwordHash: hashPassword('pw'), tags: [] });
  // topic read on the user's own subtree, topic write on the client's own subtree
  b.broker.core.setTopicPermission('mia', '/', { exchange: 'amq.topic', write: '^{client_id}\\.', read: '^{username}\\.' });
});
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});
afterAll(async () => {
  await b?.stop();
});

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const refusedCode = version === 5 ? 0x87 : 0x80;

  /** a new connection of mia's with these vhost permissions (checked at CONNECT, as in RabbitMQ) */
  async function mia(permission: VhostPermission): Promise<{ c: RawClient; clientId: string }> {
    b.broker.core.setPermissions('mia', '/', permission);
    const clientId = `mia-${version}-${++n}`;
    const c = await RawClient.open(b.mqttPort, version);
    open.push(c);
    c.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId, username: 'mia', password: Buffer.from('pw') }, version);
    const connack = (await c.next('connack', 5000)) as IConnackPacket;
    expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
    return { c, clientId };
  }

  async function subscribe(c: RawClient, topic: string, qos: 0 | 1 = 1): Promise<number> {
    const messageId = ++n;
    c.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }, version);
    const suback = (await c.next('suback', 5000)) as ISubackPacket;
    expect(suback.messageId).toBe(messageId);
    return suback.granted[0] as number;
  }

  it('SUBSCRIBE: topic read permission on the filter ({username})', async () => {
    const { c } = await mia(FULL);
    expect(await subscribe(c, 'mia/#')).toBe(1);
    expect(await subscribe(c, 'bob/#')).toBe(refusedCode);
    expect(await subscribe(c, 'mia/+/temp', 0)).toBe(0); // the connection carries on
  });

  it('SUBSCRIBE: configure on the subscription queue', async () => {
    const { c } = await mia({ ...FULL, configure: '^nothing$' });
    expect(await subscribe(c, 'mia/x')).toBe(refusedCode);
  });

  it('SUBSCRIBE: write on the subscription queue (to bind it)', async () => {
    const { c } = await mia({ ...FULL, write: '^amq\\.topic$' });
    expect(await subscribe(c, 'mia/x')).toBe(refusedCode);
  });

  it('SUBSCRIBE: read on amq.topic (the binding source)', async () => {
    const { c } = await mia({ ...FULL, read: '^mqtt-subscription-' });
    expect(await subscribe(c, 'mia/x')).toBe(refusedCode);
  });

  it('SUBSCRIBE: read on the subscription queue (to consume it)', async () => {
    const { c } = await mia({ ...FULL, read: '^amq\\.topic$' });
    expect(await subscribe(c, 'mia/x')).toBe(refusedCode);
  });

  it('PUBLISH: topic write permission on the topic ({client_id})', async () => {
    const { c, clientId } = await mia(FULL);
    c.send({ cmd: 'publish', topic: `${clientId}/t`, qos: 1, messageId: 7, payload: Buffer.from('ok'), retain: false, dup: false }, version);
    const ok = (await c.next('puback', 5000)) as IPubackPacket;
    expect(ok.reasonCode ?? 0).toBe(version === 5 ? 0x10 : 0); // 5.0: no matching subscribers, but accepted
    c.send({ cmd: 'publish', topic: 'someone-else/t', qos: 1, messageId: 8, payload: Buffer.from('no'), retain: false, dup: false }, version);
    if (version === 5) {
      const no = (await c.next('puback', 5000)) as IPubackPacket;
      expect(no.messageId).toBe(8);
      expect(no.reasonCode).toBe(0x87);
    } else {
      expect(await c.waitClosed(5000)).toBe(true);
    }
  });

  it('PUBLISH: write on amq.topic', async () => {
    const { c, clientId } = await mia({ ...FULL, write: '^mqtt-subscription-' });
    c.send({ cmd: 'publish', topic: `${clientId}/t`, qos: 1, messageId: 9, payload: Buffer.from('no'), retain: false, dup: false }, version);
    if (version === 5) expect(((await c.next('puback', 5000)) as IPubackPacket).reasonCode).toBe(0x87);
    else expect(await c.waitClosed(5000)).toBe(true);
  });

  it('a refused QoS 0 PUBLISH ends the connection (no ack can say no)', async () => {
    const { c } = await mia(FULL);
    c.send({ cmd: 'publish', topic: 'someone-else/t', qos: 0, payload: Buffer.from('no'), retain: false, dup: false }, version);
    expect(await c.waitClosed(5000)).toBe(true);
  });
});
