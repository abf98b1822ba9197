/**
 * Retained messages: delivered on subscribe (also to wildcard subscriptions), replaced by a
 * newer retain, cleared by an empty payload, QoS downgraded, expiry; MQTT 5 Retain Handling
 * and Retain As Published.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

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

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const t = (s: string) => `ret-${version}/${s}`;
  const connect = (clientId: string, extra = {}) => clients.connect({ clientId: `${clientId}-${version}`, protocolVersion: version, ...extra });

  it('delivers the retained message to a new subscription, with the retain flag (MQTT-3.3.1-8)', async () => {
    const pub = await connect('p1');
    await pub.publishAsync(t('status'), 'online', { qos: 1, retain: true });
    const sub = await connect('s1');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(t('status'), { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.messages[0]).toMatchObject({ topic: t('status'), payload: 'online' });
    expect(inbox.messages[0].packet.retain).toBe(true);
    expect(inbox.messages[0].packet.qos).toBe(1);
  });

  it('delivers every matching retained message to a wildcard subscription, and only those', async () => {
    const pub = await connect('p2');
    await pub.publishAsync(t('house/kitchen/temp'), '21', { qos: 1, retain: true });
    await pub.publishAsync(t('house/hall/temp'), '19', { qos: 1, retain: true });
    await pub.publishAsync(t('house/hall/humidity'), '40', { qos: 1, retain: true });
    const sub = await connect('s2');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(t('house/+/temp'), { qos: 0 });
    // retained messages go out with the SUBACK: a live message published after it comes after them
    await pub.publishAsync(t('house/marker/temp'), 'marker', { qos: 1 });
    await inbox.waitFor(3);
    expect(inbox.messages.slice(0, 2).map((m) => `${m.topic}=${m.payload}`).sort()).toEqual([`${t('house/hall/temp')}=19`, `${t('house/kitchen/temp')}=21`]);
    expect(inbox.messages[2]!.payload).toBe('marker');
    expect(inbox.messages.every((m) => m.packet.qos === 0)).toBe(true);
  });

  it('a newer retained message replaces the older, and live messages are not retained flagged', async () => {
    const pub = await connect('p3');
    await pub.publishAsync(t('v'), 'old', { qos: 1, retain: true });
    await pub.publishAsync(t('v'), 'new', { qos: 1, retain: true });
    const sub = await connect('s3');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(t('v'), { qos: 1 });
    await inbox.waitFor(1);
    await pub.publishAsync(t('v'), 'live', { qos: 1, retain: true });
    await inbox.waitFor(2);
    expect(inbox.payloads).toEqual(['new', 'live']);
    // a message forwarded to an existing subscription has retain 0 (MQTT-3.3.1-9)
    expect(inbox.messages[1].packet.retain).toBe(false);
  });

  it('an empty retained payload clears the retained message (MQTT-3.3.1-10)', async () => {
    const pub = await connect('p4');
    await pub.publishAsync(t('gone'), 'x', { qos: 1, retain: true });
    await pub.publishAsync(t('gone'), '', { qos: 1, retain: true });
    const sub = await connect('s4');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync(t('gone'), { qos: 1 });
    // retained messages go out with the SUBACK: a live message published after it comes after them
    await pub.publishAsync(t('gone'), 'marker', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['marker']);
  });
});

describe('MQTT 5 retain options', () => {
  const connect = (clientId: string) => clients.connect({ clientId, protocolVersion: 5 });

  it('Retain Handling 1 sends retained messages only for a new subscription, 2 never', async () => {
    const pub = await connect('rh-p');
    await pub.publishAsync('rh/a', 'A', { qos: 1, retain: true });
    const sub = await connect('rh-s');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('rh/a', { qos: 1, rh: 1 });
    await inbox.waitFor(1);
    await sub.subscribeAsync('rh/a', { qos: 1, rh: 1 }); // not new: nothing
    const never = await connect('rh-never');
    const neverInbox = new Inbox(never);
    await never.subscribeAsync('rh/a', { qos: 1, rh: 2 });
    // retained messages go out with the SUBACK: a live message published after it comes after them
    await pub.publishAsync('rh/a', 'marker', { qos: 1 });
    await inbox.waitFor(2);
    await neverInbox.waitFor(1);
    expect(inbox.payloads).toEqual(['A', 'marker']);
    expect(neverInbox.payloads).toEqual(['marker']);
  });

  it('Retain As Published keeps the retain flag of forwarded messages', async () => {
    const sub = await connect('rap-s');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('rap/x', { qos: 1, rap: true });
    await sub.subscribeAsync('rap/y', { qos: 0, rap: false });
    const pub = await connect('rap-p');
    await pub.publishAsync('rap/x', 'kept', { qos: 1, retain: true });
    await pub.publishAsync('rap/y', 'cleared', { qos: 1, retain: true });
    await inbox.waitFor(2);
    const flags = Object.fromEntries(inbox.messages.map((m) => [m.payload, m.packet.retain]));
    expect(flags).toEqual({ kept: true, cleared: false });
  });

  it('a retained message expires with its Message Expiry Interval', async () => {
    const pub = await connect('rexp-p');
    await pub.publishAsync('rexp/t', 'short-lived', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    const early = await connect('rexp-s1');
    const earlyInbox = new Inbox(early);
    await early.subscribeAsync('rexp/t', { qos: 1 });
    await earlyInbox.waitFor(1);
    expect(earlyInbox.messages[0].packet.properties?.messageExpiryInterval).toBe(1);
    await sleep(1100);
    const late = await connect('rexp-s2');
    const lateInbox = new Inbox(late);
    await late.subscribeAsync('rexp/t', { qos: 1 });
    // retained messages go out with the SUBACK: a live message published after it comes after them
    await pub.publishAsync('rexp/t', 'marker', { qos: 1 });
    await lateInbox.waitFor(1);
    expect(lateInbox.payloads).toEqual(['marker']);
  });

  it('no retained messages for a shared subscription', async () => {
    const pub = await connect('rshare-p');
    await pub.publishAsync('rshare/t', 'r', { qos: 1, retain: true });
    const sub = await connect('rshare-s');
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('$share/g/rshare/t', { qos: 1 });
    // retained messages go out with the SUBACK: a live message published after it comes after them
    await pub.publishAsync('rshare/t', 'marker', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads).toEqual(['marker']);
  });
});
