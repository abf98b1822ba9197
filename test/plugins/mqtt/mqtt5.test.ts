/**
 * MQTT 5 features: reason codes on acks, user properties, content type, payload format
 * indicator, message expiry, topic aliases both ways, Receive Maximum, Maximum Packet Size,
 * request/response, subscription options, subscription identifiers, shared subscriptions,
 * server-sent DISCONNECT.
 */
import type { MqttClient } from 'mqtt';
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, ISubackPacket, IUnsubackPacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker({ topic_alias_maximum: 4 });
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

const v5 = (clientId: string, extra = {}): Promise<MqttClient> => clients.connect({ clientId, protocolVersion: 5, ...extra });

/** the PUBACK reason code of a QoS 1 publish (MQTT.js only reports codes ≥ 0x80 to the callback) */
function pubackCode(c: MqttClient, topic: string, payload = 'x'): Promise<number> {
  return new Promise((resolve) => {
    const onPacket = (p: { cmd: string; reasonCode?: number }) => {
      if (p.cmd !== 'puback') return;
      c.off('packetreceive', onPacket);
      resolve(p.reasonCode ?? 0);
    };
    c.on('packetreceive', onPacket);
    c.publish(topic, payload, { qos: 1 }, () => {});
  });
}

describe('reason codes', () => {
  it('PUBACK 0x10 when no subscriber matched, 0x00 when one did', async () => {
    const c = await v5('rc-pub');
    expect(await pubackCode(c, 'rc/nobody')).toBe(0x10);
    const s = await v5('rc-sub');
    await s.subscribeAsync('rc/somebody', { qos: 1 });
    expect(await pubackCode(c, 'rc/somebody')).toBe(0x00);
  });

  it('PUBREC carries the reason too (QoS 2)', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'rc-q2' }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'publish', topic: 'rc/q2/nobody', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, messageId: 3 }, 5);
    expect((await raw.next('pubrec')).reasonCode).toBe(0x10);
    raw.destroy();
  });

  it('PUBACK 0x97 when a queue refuses the message (x-overflow reject-publish)', async () => {
    const core = b.broker.core;
    const conn = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 0 });
    const session = conn.openSession({ deliver() {}, consumerCancelled() {}, returned() {}, confirmed() {} });
    session.declareQueue('rc-full', { arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    session.bindQueue('rc-full', 'amq.topic', 'rc.full');
    try {
      const c = await v5('rc-quota');
      expect(await pubackCode(c, 'rc/full')).toBe(0x97);
    } finally {
      conn.close();
    }
  });

  it('SUBACK: granted QoS per filter, 0x8F for an invalid filter', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'rc-suback' }, 5);
    await raw.next('connack');
    raw.send(
      { cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'ok/+', qos: 2 }, { topic: 'bad/#/x', qos: 1 }, { topic: 'ok/q0', qos: 0 }] },
      5,
    );
    const suback = (await raw.next('suback')) as ISubackPacket;
    expect(suback.messageId).toBe(9);
    expect(suback.granted).toEqual([2, 0x8f, 0]);
    raw.destroy();
  });

  it('UNSUBACK: 0x00 per removed subscription, 0x11 when there was none', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'rc-unsuback' }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'u/a', qos: 1 }] }, 5);
    await raw.next('suback');
    raw.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['u/a', 'u/never'] }, 5);
    const unsuback = (await raw.next('unsuback')) as IUnsubackPacket;
    expect(unsuback.granted).toEqual([0x00, 0x11]);
    raw.destroy();
  });
});

describe('message properties', () => {
  it('user properties, content type, payload format, response topic and correlation data reach the subscriber', async () => {
    const s = await v5('props-sub');
    const inbox = new Inbox(s);
    await s.subscribeAsync('props/t', { qos: 1 });
    const p = await v5('props-pub');
    await p.publishAsync('props/t', '{"a":1}', {
      qos: 1,
      properties: {
        userProperties: { region: 'eu', tag: ['a', 'b'] },
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: 'props/reply',
        correlationData: Buffer.from('req-1'),
      },
    });
    await inbox.waitFor(1);
    const props = inbox.messages[0].packet.properties!;
    expect(props.userProperties).toEqual({ region: 'eu', tag: ['a', 'b'] });
    expect(props.contentType).toBe('application/json');
    expect(props.payloadFormatIndicator).toBe(true);
    expect(props.responseTopic).toBe('props/reply');
    expect(props.correlationData?.toString()).toBe('req-1');
  });

  it('request/response: a responder answers on the response topic with the correlation data', async () => {
    const responder = await v5('rr-responder');
    await responder.subscribeAsync('rr/requests', { qos: 1 });
    responder.on('message', (_t, payload, packet) => {
      const props = packet.properties!;
      responder.publish(props.responseTopic!, `echo ${payload}`, { qos: 1, properties: { correlationData: props.correlationData } });
    });
    const requester = await v5('rr-requester');
    const inbox = new Inbox(requester);
    await requester.subscribeAsync('rr/replies/me', { qos: 1 });
    await requester.publishAsync('rr/requests', 'ping', { qos: 1, properties: { responseTopic: 'rr/replies/me', correlationData: Buffer.from([1, 2, 3]) } });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['echo ping']);
    expect([...inbox.messages[0].packet.properties!.correlationData!]).toEqual([1, 2, 3]);
  });

  it('counts the message expiry down while the message waits, and drops it once expired', async () => {
    const id = 'expiry-sub';
    const s = await v5(id, { clean: false, properties: { sessionExpiryInterval: 60 } });
    await s.subscribeAsync('exp/t', { qos: 1 });
    await s.endAsync();
    const p = await v5('expiry-pub');
    await p.publishAsync('exp/t', 'lives', { qos: 1, properties: { messageExpiryInterval: 10 } });
    await p.publishAsync('exp/t', 'dies', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await sleep(2100);
    const [, , inbox] = await clients.connectWithConnack({ clientId: id, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 60 } });
    // the session's queue delivers in order: 'dies', had it not expired, would come before the marker
    await p.publishAsync('exp/t', 'marker', { qos: 1 });
    await inbox.waitFor(2);
    expect(inbox.payloads).toEqual(['lives', 'marker']);
    const left = inbox.messages[0].packet.properties!.messageExpiryInterval!;
    expect(left).toBeGreaterThanOrEqual(7);
    expect(left).toBeLessThanOrEqual(8);
  });
});

describe('topic aliases', () => {
  it('accepts aliases from the client up to our maximum, announced in CONNACK', async () => {
    const [c, connack] = await clients.connectWithConnack({ clientId: 'alias-in', protocolVersion: 5 });
    expect(connack.properties?.topicAliasMaximum).toBe(4);
    const s = await v5('alias-in-sub');
    const inbox = new Inbox(s);
    await s.subscribeAsync('alias/in/t', { qos: 1 });
    await c.publishAsync('alias/in/t', 'first', { qos: 1, properties: { topicAlias: 2 } });
    await c.publishAsync('', 'second', { qos: 1, properties: { topicAlias: 2 } });
    await inbox.waitFor(2);
    expect(inbox.messages.map((m) => m.topic)).toEqual(['alias/in/t', 'alias/in/t']);
  });

  it('disconnects with 0x94 for an alias above the maximum', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'alias-bad' }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 5 } }, 5);
    expect(((await raw.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x94);
    expect(await raw.waitClosed()).toBe(true);
  });

  it('uses aliases towards a client that allows them', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'alias-out', properties: { topicAliasMaximum: 1 } }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'alias/out/#', qos: 0 }] }, 5);
    await raw.next('suback');
    const p = await v5('alias-out-pub');
    for (const topic of ['alias/out/a', 'alias/out/a', 'alias/out/b']) await p.publishAsync(topic, 'x', { qos: 1 });
    const got = [(await raw.next('publish')) as IPublishPacket, (await raw.next('publish')) as IPublishPacket, (await raw.next('publish')) as IPublishPacket];
    expect(got.map((x) => [x.topic, x.properties?.topicAlias])).toEqual([
      ['alias/out/a', 1],
      ['', 1],
      ['alias/out/b', undefined],
    ]);
    raw.destroy();
  });
});

describe('flow control and sizes', () => {
  it('sends no more unacknowledged QoS 1 messages than the client\'s Receive Maximum', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'recvmax', properties: { receiveMaximum: 3 } }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rm/t', qos: 1 }] }, 5);
    await raw.next('suback');
    const publishes = () => raw.packets.filter((x) => x.cmd === 'publish') as IPublishPacket[];
    // waits for what must come (a loaded machine may take long), then a while for what must not
    const atLeast = async (n: number) => {
      for (const deadline = Date.now() + 5000; publishes().length < n && Date.now() < deadline; ) await sleep(10);
      await sleep(150);
    };
    const p = await v5('recvmax-pub');
    for (let i = 0; i < 10; i++) await p.publishAsync('rm/t', `m${i}`, { qos: 1 });
    await atLeast(3);
    const first = publishes();
    expect(first).toHaveLength(3);
    raw.send({ cmd: 'puback', messageId: first[0].messageId }, 5);
    await atLeast(4);
    expect(publishes()).toHaveLength(4);
    raw.destroy();
  });

  it('does not send a client packets above its Maximum Packet Size (MQTT-3.1.2-25)', async () => {
    const s = await v5('maxsize-sub', { properties: { maximumPacketSize: 200 } });
    const inbox = new Inbox(s);
    await s.subscribeAsync('size/t', { qos: 1 });
    const p = await v5('maxsize-pub');
    await p.publishAsync('size/t', 'x'.repeat(1000), { qos: 1 });
    await p.publishAsync('size/t', 'small', { qos: 1 });
    // one queue, in order: the large one, had it been sent, would have come first
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['small']);
  });

  it('disconnects a client sending a packet above the server maximum (0x95), announced in CONNACK', async () => {
    const small = await startMqttBroker({ max_packet_size_authenticated: 1024 });
    const raw = await RawClient.open(small.tcpPort, 5);
    try {
      raw.send({ ...CONNECT_V5, clientId: 'big' }, 5);
      const connack = (await raw.next('connack')) as IConnackPacket;
      expect(connack.properties?.maximumPacketSize).toBe(1024);
      raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(4000), qos: 0, retain: false, dup: false }, 5);
      expect(((await raw.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x95);
      expect(await raw.waitClosed()).toBe(true);
    } finally {
      raw.destroy();
      await small.stop();
    }
  });
});

describe('subscription options', () => {
  it('No Local: a client does not get its own messages back', async () => {
    const c = await v5('nl');
    const inbox = new Inbox(c);
    await c.subscribeAsync('nl/t', { qos: 1, nl: true });
    await c.publishAsync('nl/t', 'mine', { qos: 1 });
    const other = await v5('nl-other');
    await other.publishAsync('nl/t', 'theirs', { qos: 1 });
    // one queue, in order: its own message, routed first, would have come first
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['theirs']);
  });

  it('Subscription Identifiers come back with every matching subscription\'s id', async () => {
    const c = await v5('subid');
    const inbox = new Inbox(c);
    await c.subscribeAsync('sid/+', { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await c.subscribeAsync('sid/#', { qos: 1, properties: { subscriptionIdentifier: 9 } });
    await c.subscribeAsync('sid/none', { qos: 1 });
    const p = await v5('subid-pub');
    await p.publishAsync('sid/a', 'both', { qos: 1 });
    await p.publishAsync('sid/x/y', 'one', { qos: 1 });
    await inbox.waitFor(2);
    const ids = (m: (typeof inbox.messages)[number]) => {
      const v = m.packet.properties?.subscriptionIdentifier;
      return (Array.isArray(v) ? v : [v]).sort();
    };
    expect(ids(inbox.messages[0])).toEqual([7, 9]);
    expect(ids(inbox.messages[1])).toEqual([9]);
  });
});

describe('shared subscriptions', () => {
  it('$share/group/filter: the group members share the messages, other subscribers get all', async () => {
    const m1 = await v5('share-1');
    const m2 = await v5('share-2');
    const solo = await v5('share-solo');
    const in1 = new Inbox(m1);
    const in2 = new Inbox(m2);
    const inSolo = new Inbox(solo);
    await m1.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    await m2.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    await solo.subscribeAsync('jobs/+', { qos: 1 });
    const p = await v5('share-pub');
    for (let i = 0; i < 20; i++) await p.publishAsync(`jobs/${i}`, `j${i}`, { qos: 1 });
    await inSolo.waitFor(20);
    // the group's deliveries, on their own connections
    for (const deadline = Date.now() + 5000; in1.messages.length + in2.messages.length < 20 && Date.now() < deadline; ) await sleep(5);
    expect(in1.messages.length + in2.messages.length).toBe(20);
    expect(in1.messages.length).toBeGreaterThan(0);
    expect(in2.messages.length).toBeGreaterThan(0);
    expect(new Set([...in1.payloads, ...in2.payloads]).size).toBe(20);
    expect(in1.messages[0].topic).toMatch(/^jobs\/\d+$/);
  });

  it('a member leaving hands its share to the others', async () => {
    const m1 = await v5('share-l1');
    const m2 = await v5('share-l2');
    const in2 = new Inbox(m2);
    await m1.subscribeAsync('$share/g2/leave/t', { qos: 1 });
    await m2.subscribeAsync('$share/g2/leave/t', { qos: 1 });
    await m1.unsubscribeAsync('$share/g2/leave/t');
    const p = await v5('share-lp');
    for (let i = 0; i < 4; i++) await p.publishAsync('leave/t', `x${i}`, { qos: 1 });
    await in2.waitFor(4);
  });

  it('No Local on a shared subscription is a protocol error (MQTT-3.8.3-4)', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'share-nl' }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/x', qos: 1, nl: true }] }, 5);
    expect(((await raw.next('disconnect')) as IDisconnectPacket).reasonCode).toBe(0x82);
  });
});

describe('server DISCONNECT', () => {
  it('tells MQTT 5 clients 0x8B Server shutting down when the broker stops', async () => {
    const other = await startMqttBroker();
    const local = new Clients(other.url);
    try {
      const c = await local.connect({ clientId: 'shutdown', protocolVersion: 5 });
      const disconnect = new Promise<IDisconnectPacket>((r) => c.once('disconnect', r));
      await other.broker.stop();
      expect((await disconnect).reasonCode).toBe(0x8b);
    } finally {
      await local.closeAll();
      await other.stop();
    }
  });
});

describe('backpressure', () => {
  it('stops delivering to a client that does not read, and resumes when it does', async () => {
    const raw = await RawClient.open(b.tcpPort, 4);
    raw.send({ ...CONNECT_V4, clientId: 'slow-reader' });
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bp/t', qos: 0 }] });
    await raw.next('suback');
    raw.socket.pause(); // stop reading: the kernel buffers fill, then the broker's socket does
    const p = await v5('bp-pub');
    const big = Buffer.alloc(64 * 1024, 0x62);
    for (let i = 0; i < 200; i++) p.publish('bp/t', big, { qos: 0 });
    // its PUBACK waits while the queue holds the publisher (publisher flow: 12.8 MiB is past the 8 MiB bound)
    const last = p.publishAsync('bp/t', 'last', { qos: 1 });
    await sleep(300);
    const queue = b.broker.core.vhosts.get('/')!.queues.get('mqtt-subscription-slow-readerqos0')!;
    // deliveries stopped with messages still waiting in the queue (12.8 MiB cannot all be in socket buffers)
    expect(queue.messageCount).toBeGreaterThan(0);
    raw.socket.resume();
    await last;
    for (let i = 0; i < 200 && raw.packets.filter((x) => x.cmd === 'publish').length < 201; i++) await sleep(20);
    expect(raw.packets.filter((x) => x.cmd === 'publish')).toHaveLength(201);
    expect(queue.messageCount).toBe(0);
    raw.destroy();
  });
});
