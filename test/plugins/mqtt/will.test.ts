/**
 * Will messages: sent when a client drops without DISCONNECT (socket closed, keep-alive
 * expired, protocol error), not after a normal DISCONNECT; MQTT 5 DISCONNECT 0x04 and the
 * Will Delay Interval; retained wills.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, CONNECT_V4, CONNECT_V5, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
let clients: Clients;
beforeAll(async () => {
  b = await startMqttBroker();
  clients = new Clients(b.url);
});
afterEach(async () => {
  await clients.closeAll();
});
afterAll(async () => {
  await b?.stop();
});

async function watcher(topic: string) {
  const c = await clients.connect({ clientId: `watch-${topic.replaceAll('/', '-')}`, protocolVersion: 5 });
  const inbox = new Inbox(c);
  await c.subscribeAsync(topic, { qos: 1 });
  return inbox;
}

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const connect = version === 5 ? CONNECT_V5 : CONNECT_V4;

  it('publishes the will when the connection drops', async () => {
    const topic = `will-${version}/drop`;
    const inbox = await watcher(topic);
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send({ ...connect, clientId: `dropper-${version}`, will: { topic, payload: Buffer.from('offline'), qos: 1, retain: false } }, version);
    await raw.next('connack');
    raw.destroy();
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['offline']);
  });

  it('does not publish the will after DISCONNECT (MQTT-3.14.4-3)', async () => {
    const topic = `will-${version}/clean`;
    const inbox = await watcher(topic);
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send({ ...connect, clientId: `leaver-${version}`, will: { topic, payload: Buffer.from('offline'), qos: 1, retain: false } }, version);
    await raw.next('connack');
    raw.send({ cmd: 'disconnect' }, version);
    await raw.waitClosed();
    // a will is published as the broker closes the connection: a message sent after the close comes after it
    const other = await clients.connect({ clientId: `after-leaver-${version}`, protocolVersion: version });
    await other.publishAsync(topic, 'marker', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['marker']);
  });

  it('publishes the will when keep-alive runs out', async () => {
    const topic = `will-${version}/silent`;
    const inbox = await watcher(topic);
    const raw = await RawClient.open(b.tcpPort, version);
    raw.send({ ...connect, clientId: `silent-${version}`, keepalive: 1, will: { topic, payload: Buffer.from('timed out'), qos: 0, retain: false } }, version);
    await raw.next('connack');
    await inbox.waitFor(1, 3000);
    expect(inbox.payloads).toEqual(['timed out']);
    raw.destroy();
  });

  it('a retained will is retained', async () => {
    const topic = `will-${version}/retained`;
    const raw = await RawClient.open(b.tcpPort, version);
    // published when the broker notices the drop: a watcher there before sees it then, one subscribing after gets it retained
    const liveClient = await clients.connect({ clientId: `live-${version}-retained`, protocolVersion: 5 });
    const live = new Inbox(liveClient);
    await liveClient.subscribeAsync(topic, { qos: 1 });
    raw.send({ ...connect, clientId: `rwill-${version}`, will: { topic, payload: Buffer.from('gone'), qos: 1, retain: true } }, version);
    await raw.next('connack');
    raw.destroy();
    await live.waitFor(1);
    const inbox = await watcher(topic);
    await inbox.waitFor(1);
    expect(inbox.messages[0].packet.retain).toBe(true);
    expect(inbox.payloads).toEqual(['gone']);
  });
});

describe('MQTT 5 will options', () => {
  it('DISCONNECT with reason 0x04 publishes the will', async () => {
    const inbox = await watcher('will5/asked');
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'asker', will: { topic: 'will5/asked', payload: Buffer.from('on purpose'), qos: 0, retain: false } }, 5);
    await raw.next('connack');
    raw.send({ cmd: 'disconnect', reasonCode: 0x04 }, 5);
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['on purpose']);
  });

  it('waits for the Will Delay Interval before publishing', async () => {
    const inbox = await watcher('will5/delayed');
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send(
      {
        ...CONNECT_V5,
        clientId: 'delayed',
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: 'will5/delayed', payload: Buffer.from('late'), qos: 0, retain: false, properties: { willDelayInterval: 1 } },
      },
      5,
    );
    await raw.next('connack');
    const dropped = Date.now();
    raw.destroy();
    await sleep(500);
    expect(inbox.messages).toHaveLength(0);
    await inbox.waitFor(1, 2000);
    expect(Date.now() - dropped).toBeGreaterThanOrEqual(950);
  });

  it('a client back before the delay passes cancels the will (MQTT-3.1.3-9)', async () => {
    const inbox = await watcher('will5/back');
    const options = {
      ...CONNECT_V5,
      clientId: 'comes-back',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: { topic: 'will5/back', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 1 } },
    };
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send(options, 5);
    await raw.next('connack');
    raw.destroy();
    await sleep(300);
    const again = await RawClient.open(b.tcpPort, 5);
    again.send({ ...options, will: undefined }, 5);
    await again.next('connack');
    await sleep(1200);
    expect(inbox.messages).toHaveLength(0);
    again.send({ cmd: 'disconnect' }, 5);
  });

  it('the session ending before the delay publishes the will at once', async () => {
    const inbox = await watcher('will5/session-end');
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send(
      {
        ...CONNECT_V5,
        clientId: 'short-session',
        properties: { sessionExpiryInterval: 0 },
        will: { topic: 'will5/session-end', payload: Buffer.from('now'), qos: 0, retain: false, properties: { willDelayInterval: 30 } },
      },
      5,
    );
    await raw.next('connack');
    raw.destroy();
    await inbox.waitFor(1, 1000);
  });

  it('a will with an invalid topic is refused at CONNECT (0x90)', async () => {
    const raw = await RawClient.open(b.tcpPort, 5);
    raw.send({ ...CONNECT_V5, clientId: 'badwill', will: { topic: 'a/#', payload: Buffer.from('x'), qos: 0, retain: false } }, 5);
    const connack = await raw.next('connack');
    expect((connack as { reasonCode?: number }).reasonCode).toBe(0x90);
    expect(await raw.waitClosed()).toBe(true);
  });
});

describe('takeover', () => {
  it("a connection taken over by the same client id publishes the old connection's will", async () => {
    const inbox = await watcher('will/takeover');
    const raw = await RawClient.open(b.tcpPort);
    raw.send({ ...CONNECT_V4, clientId: 'twin', will: { topic: 'will/takeover', payload: Buffer.from('replaced'), qos: 0, retain: false } });
    await raw.next('connack');
    const twin = await RawClient.open(b.tcpPort);
    twin.send({ ...CONNECT_V4, clientId: 'twin' });
    await twin.next('connack');
    expect(await raw.waitClosed()).toBe(true);
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['replaced']);
    twin.destroy();
  });
});
