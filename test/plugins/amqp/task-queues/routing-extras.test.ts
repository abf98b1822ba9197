/**
 * Routing extras as RabbitMQ documents them: alternate exchanges
 * (https://www.rabbitmq.com/docs/ae: unroutable messages go to the exchange's AE, AEs chain,
 * a message the AE routes is not returned to a mandatory publisher), sender-selected
 * distribution (https://www.rabbitmq.com/docs/sender-selected: `CC` and `BCC` headers add
 * routing keys; BCC is removed before delivery, CC kept), and both across
 * exchange-to-exchange bindings (https://www.rabbitmq.com/docs/e2e). In a graph of exchanges
 * RabbitMQ (rabbit_exchange:route1) gives the message to an exchange's alternate exchange
 * whenever that exchange itself matches nothing, at every hop, whatever the other branches did.
 */
import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { bodies, drain, uniqueName } from '../../../helpers/amqp-clients.js';
import { getOne, useSuiteBroker, waitForReady, type ReturnedMessage } from './support.js';

const { clients } = useSuiteBroker();

async function exchange(ch: Channel, type: string, args: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName(`x-${type}`);
  await ch.assertExchange(name, type, { durable: false, autoDelete: false, arguments: args });
  return name;
}

/** Exchanges declared by a test are not auto-delete (AE targets have no bindings of their own): delete them. */
async function cleanup(ch: Channel, ...names: string[]): Promise<void> {
  for (const n of names) await ch.deleteExchange(n);
}

async function boundQueue(ch: Channel, source: string, key = ''): Promise<string> {
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, source, key);
  return queue;
}

/** Publishes on a confirm channel; resolves with the basic.return if there was one (it precedes the confirm). */
async function publishMandatory(x: string, key: string, body: string, headers: Record<string, unknown> = {}): Promise<ReturnedMessage | null> {
  const pub = await clients.confirmChannel();
  let returned: ReturnedMessage | null = null;
  pub.on('return', (m: ReturnedMessage) => (returned = m));
  pub.publish(x, key, Buffer.from(body), { mandatory: true, headers });
  await pub.waitForConfirms();
  return returned;
}

describe('alternate-exchange', () => {
  it('sends messages the exchange cannot route to its alternate exchange, and routable ones as usual', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const main = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const routed = await boundQueue(ch, main, 'known');
    const unrouted = await boundQueue(ch, ae);
    ch.publish(main, 'known', Buffer.from('direct hit'));
    ch.publish(main, 'unknown', Buffer.from('to the AE'));
    await waitForReady(ch, unrouted, 1);
    const viaAe = await getOne(ch, unrouted);
    // the message keeps the exchange and routing key it was published with
    expect(viaAe.fields).toMatchObject({ exchange: main, routingKey: 'unknown' });
    expect(bodies(await drain(ch, routed))).toEqual(['direct hit']);
    await cleanup(ch, main, ae);
  });

  it('follows a chain of alternate exchanges', async () => {
    const { ch } = await clients.open();
    const last = await exchange(ch, 'fanout');
    const middle = await exchange(ch, 'direct', { 'alternate-exchange': last });
    const first = await exchange(ch, 'direct', { 'alternate-exchange': middle });
    const middleQueue = await boundQueue(ch, middle, 'middle-key');
    const lastQueue = await boundQueue(ch, last);
    ch.publish(first, 'middle-key', Buffer.from('stops at the middle'));
    ch.publish(first, 'other', Buffer.from('goes to the end'));
    await waitForReady(ch, lastQueue, 1);
    expect(bodies(await drain(ch, middleQueue))).toEqual(['stops at the middle']);
    expect(bodies(await drain(ch, lastQueue))).toEqual(['goes to the end']);
    await cleanup(ch, first, middle, last);
  });

  it('does not return a mandatory message the alternate exchange routes, and returns one it cannot', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'direct');
    const main = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const aeQueue = await boundQueue(ch, ae, 'caught');
    expect(await publishMandatory(main, 'caught', 'saved by the AE')).toBeNull();
    const returned = await publishMandatory(main, 'nowhere', 'lost');
    expect(returned?.fields).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', exchange: main, routingKey: 'nowhere' });
    expect(bodies(await drain(ch, aeQueue))).toEqual(['saved by the AE']);
    await cleanup(ch, main, ae);
  });

  it('stops at a cycle of alternate exchanges (the message is unroutable, not looping)', async () => {
    const { ch } = await clients.open();
    const a = uniqueName('x-ae-cycle-a');
    const b = uniqueName('x-ae-cycle-b');
    await ch.assertExchange(a, 'direct', { durable: false, arguments: { 'alternate-exchange': b } });
    await ch.assertExchange(b, 'direct', { durable: false, arguments: { 'alternate-exchange': a } });
    const returned = await publishMandatory(a, 'nothing', 'circular');
    expect(returned?.fields.replyCode).toBe(312);
    await cleanup(ch, a, b);
  });

  it('ignores an alternate exchange that does not exist', async () => {
    const { ch } = await clients.open();
    const main = await exchange(ch, 'direct', { 'alternate-exchange': uniqueName('x-missing-ae') });
    const returned = await publishMandatory(main, 'nowhere', 'lost');
    expect(returned?.fields.replyCode).toBe(312);
    await cleanup(ch, main);
  });
});

describe('CC and BCC (sender-selected distribution)', () => {
  it('routes by the routing key plus the CC and BCC keys, keeping CC and removing BCC in every copy', async () => {
    const { ch } = await clients.open();
    const x = await exchange(ch, 'direct');
    const [to, cc, bcc, none] = [await boundQueue(ch, x, 'to'), await boundQueue(ch, x, 'cc'), await boundQueue(ch, x, 'bcc'), await boundQueue(ch, x, 'none')];
    ch.publish(x, 'to', Buffer.from('memo'), { CC: ['cc'], BCC: ['bcc'], headers: { other: 'kept' } });
    for (const q of [to, cc, bcc]) {
      const m = await getOne(ch, q);
      expect(m.content.toString()).toBe('memo');
      // the routing key of each copy is the one it was published with, not the CC/BCC key
      expect(m.fields).toMatchObject({ exchange: x, routingKey: 'to' });
      expect(m.properties.headers).toStrictEqual({ other: 'kept', CC: ['cc'] });
    }
    expect((await ch.checkQueue(none)).messageCount).toBe(0);
    await cleanup(ch, x);
  });

  it('delivers one copy to a queue that several of the keys reach', async () => {
    const { ch } = await clients.open();
    const x = await exchange(ch, 'direct');
    const q = await boundQueue(ch, x, 'a');
    await ch.bindQueue(q, x, 'b');
    ch.publish(x, 'a', Buffer.from('once'), { CC: ['b', 'a'], BCC: ['b'] });
    ch.publish(x, 'marker', Buffer.from('marker'), { CC: ['a'] });
    await waitForReady(ch, q, 2);
    expect(bodies(await drain(ch, q))).toEqual(['once', 'marker']);
    await cleanup(ch, x);
  });

  it('routes on CC keys through topic patterns, and through the default exchange to queues by name', async () => {
    const { ch } = await clients.open();
    const x = await exchange(ch, 'topic');
    const eu = await boundQueue(ch, x, 'region.eu.*');
    ch.publish(x, 'region.us.ny', Buffer.from('topic'), { CC: ['region.eu.fr'] });
    expect((await getOne(ch, eu)).content.toString()).toBe('topic');
    const { queue: a } = await ch.assertQueue('', { exclusive: true });
    const { queue: b } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(a, Buffer.from('default'), { BCC: [b] });
    expect((await getOne(ch, b)).properties.headers).toStrictEqual({});
    expect((await getOne(ch, a)).content.toString()).toBe('default');
    await cleanup(ch, x);
  });

  it('uses the CC and BCC keys for the alternate exchange decision: a message only a BCC key routes is not sent to the AE', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const x = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const bccQueue = await boundQueue(ch, x, 'hidden');
    const aeQueue = await boundQueue(ch, ae);
    expect(await publishMandatory(x, 'nobody', 'bcc only', { BCC: ['hidden'] })).toBeNull();
    expect(bodies(await drain(ch, bccQueue))).toEqual(['bcc only']);
    expect((await ch.checkQueue(aeQueue)).messageCount).toBe(0);
    await cleanup(ch, x, ae);
  });
});

describe('exchange-to-exchange bindings with these', () => {
  it('applies CC and BCC keys at every exchange along the way', async () => {
    const { ch } = await clients.open();
    const front = await exchange(ch, 'fanout');
    const back = await exchange(ch, 'direct');
    await ch.bindExchange(back, front, '');
    const [to, cc, bcc] = [await boundQueue(ch, back, 'to'), await boundQueue(ch, back, 'cc'), await boundQueue(ch, back, 'bcc')];
    ch.publish(front, 'to', Buffer.from('relayed'), { CC: ['cc'], BCC: ['bcc'] });
    for (const q of [to, cc, bcc]) {
      const m = await getOne(ch, q);
      expect(m.fields).toMatchObject({ exchange: front, routingKey: 'to' });
      expect(m.properties.headers).toStrictEqual({ CC: ['cc'] });
    }
    await cleanup(ch, front, back);
  });

  it("uses the published-to exchange's alternate exchange when the whole graph routes nowhere", async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const front = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const back = await exchange(ch, 'direct');
    await ch.bindExchange(back, front, 'to-back');
    const backQueue = await boundQueue(ch, back, 'to-back');
    const aeQueue = await boundQueue(ch, ae);
    ch.publish(front, 'to-back', Buffer.from('through'));
    ch.publish(front, 'elsewhere', Buffer.from('to the AE'));
    await waitForReady(ch, aeQueue, 1);
    expect(bodies(await drain(ch, backQueue))).toEqual(['through']);
    expect(bodies(await drain(ch, aeQueue))).toEqual(['to the AE']);
    await cleanup(ch, front, back, ae);
  });

  it('routes from an alternate exchange on through its exchange-to-exchange bindings', async () => {
    const { ch } = await clients.open();
    const downstream = await exchange(ch, 'direct');
    const ae = await exchange(ch, 'fanout');
    await ch.bindExchange(downstream, ae, '');
    const main = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const q = await boundQueue(ch, downstream, 'k');
    expect(await publishMandatory(main, 'k', 'AE then e2e')).toBeNull();
    expect(bodies(await drain(ch, q))).toEqual(['AE then e2e']);
    await cleanup(ch, main, ae, downstream);
  });

  it('uses the alternate exchange of a downstream exchange that routes nowhere', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const back = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const front = await exchange(ch, 'fanout');
    await ch.bindExchange(back, front, '');
    const aeQueue = await boundQueue(ch, ae);
    ch.publish(front, 'no-binding-in-back', Buffer.from('caught downstream'));
    await waitForReady(ch, aeQueue, 1, 1000);
    expect(bodies(await drain(ch, aeQueue))).toEqual(['caught downstream']);
    await cleanup(ch, front, back, ae);
  });

  it('uses a downstream alternate exchange even when another branch routed the message', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const back = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const front = await exchange(ch, 'fanout');
    await ch.bindExchange(back, front, '');
    const direct = await boundQueue(ch, front);
    const aeQueue = await boundQueue(ch, ae);
    ch.publish(front, 'k', Buffer.from('both'));
    await waitForReady(ch, aeQueue, 1, 1000);
    expect(bodies(await drain(ch, direct))).toEqual(['both']);
    expect(bodies(await drain(ch, aeQueue))).toEqual(['both']);
    await cleanup(ch, front, back, ae);
  });

  it("does not use the published-to exchange's alternate exchange when it routed to an exchange that routes nowhere", async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const front = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const back = await exchange(ch, 'direct');
    await ch.bindExchange(back, front, 'k');
    const aeQueue = await boundQueue(ch, ae);
    const returned = await publishMandatory(front, 'k', 'dead end');
    expect(returned?.fields.replyCode).toBe(312);
    expect((await ch.checkQueue(aeQueue)).messageCount).toBe(0);
    await cleanup(ch, front, back, ae);
  });

  it('does not use a downstream alternate exchange when its bindings matched a queue another branch reached first', async () => {
    const { ch } = await clients.open();
    const ae = await exchange(ch, 'fanout');
    const back = await exchange(ch, 'direct', { 'alternate-exchange': ae });
    const front = await exchange(ch, 'fanout');
    const shared = await boundQueue(ch, front);
    await ch.bindExchange(back, front, '');
    await ch.bindQueue(shared, back, 'k');
    const aeQueue = await boundQueue(ch, ae);
    ch.publish(front, 'k', Buffer.from('matched twice'));
    ch.publish(front, 'other', Buffer.from('back matched nothing'));
    await waitForReady(ch, aeQueue, 1);
    // one copy in the shared queue per message; only the second reached the AE
    expect(bodies(await drain(ch, shared))).toEqual(['matched twice', 'back matched nothing']);
    expect(bodies(await drain(ch, aeQueue))).toEqual(['back matched nothing']);
    await cleanup(ch, front, back, ae);
  });
});
