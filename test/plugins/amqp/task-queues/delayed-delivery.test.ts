/**
 * Delayed delivery and retry back-off: Warren-only. RabbitMQ gets the `x-delayed-message`
 * exchange type from a plugin (rabbitmq-delayed-message-exchange) that the reference broker
 * does not have, and has no `x-redelivery-backoff` at all, so these tests skip for an external
 * broker. The exchange follows the plugin's documented interface: type `x-delayed-message`,
 * argument `x-delayed-type` naming the routing it behaves as, per-message `x-delay` header (ms).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf, expectCode, sleep, uniqueName } from '../../../helpers/amqp-clients.js';
import { isExternalBroker } from '../../../helpers/broker.js';
import { consumeInto, useSuiteBroker, waitForReady, type ReturnedMessage } from './support.js';

const { clients } = useSuiteBroker();

/** Timers may fire on the same millisecond tick a little before a Date.now() read taken at publish. */
const CLOCK_SLACK_MS = 2;

async function delayedExchange(type = 'direct'): Promise<{ ch: Awaited<ReturnType<typeof clients.channel>>; exchange: string }> {
  const ch = await clients.channel();
  const exchange = uniqueName('x-delayed');
  await ch.assertExchange(exchange, 'x-delayed-message', { durable: false, autoDelete: true, arguments: { 'x-delayed-type': type } });
  return { ch, exchange };
}

describe.skipIf(isExternalBroker)('x-delayed-message exchange', () => {
  it('holds each message for its x-delay and delivers in order of due time, not of publishing', async () => {
    const { ch, exchange } = await delayedExchange();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'jobs');
    const inbox = await consumeInto(ch, queue, { noAck: true });
    const t0 = Date.now();
    // 'soon' is due 250 ms after it is read: room for 'now' and 'zero' to reach the broker
    // first on a loaded machine (at 50 ms a slow client write reordered them)
    ch.publish(exchange, 'jobs', Buffer.from('late'), { headers: { 'x-delay': 500 } });
    ch.publish(exchange, 'jobs', Buffer.from('soon'), { headers: { 'x-delay': 250 } });
    ch.publish(exchange, 'jobs', Buffer.from('now'));
    ch.publish(exchange, 'jobs', Buffer.from('zero'), { headers: { 'x-delay': 0 } });
    await inbox.atLeast(4);
    expect(inbox.bodies).toEqual(['now', 'zero', 'soon', 'late']);
    expect(inbox.arrivalOf('soon') - t0).toBeGreaterThanOrEqual(250 - CLOCK_SLACK_MS);
    expect(inbox.arrivalOf('late') - t0).toBeGreaterThanOrEqual(500 - CLOCK_SLACK_MS);
    expect(inbox.arrivalOf('late') - t0).toBeLessThan(1500);
  });

  it('keeps a delayed message out of the queue until it is due', async () => {
    const { ch, exchange } = await delayedExchange('fanout');
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, '');
    // long enough for the round trip below (amqplib leaves Nagle on: a round trip after a publish can take 40 ms)
    ch.publish(exchange, 'any', Buffer.from('wait'), { headers: { 'x-delay': 300 }, messageId: 'kept' });
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    await waitForReady(ch, queue, 1);
    const m = await ch.get(queue, { noAck: true });
    expect(m && m.properties.messageId).toBe('kept');
    expect(m && m.fields).toMatchObject({ exchange, routingKey: 'any' });
  });

  it('routes as its x-delayed-type: topic patterns are applied when the message is due', async () => {
    const { ch, exchange } = await delayedExchange('topic');
    const { queue: eu } = await ch.assertQueue('', { exclusive: true });
    const { queue: all } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(eu, exchange, 'orders.eu.*');
    await ch.bindQueue(all, exchange, 'orders.#');
    ch.publish(exchange, 'orders.eu.fr', Buffer.from('fr'), { headers: { 'x-delay': 30 } });
    ch.publish(exchange, 'orders.us.ny', Buffer.from('ny'), { headers: { 'x-delay': 30 } });
    const inboxAll = await consumeInto(ch, all, { noAck: true });
    const inboxEu = await consumeInto(ch, eu, { noAck: true });
    await inboxAll.atLeast(2);
    await inboxEu.atLeast(1);
    expect(inboxAll.bodies.sort()).toEqual(['fr', 'ny']);
    expect(inboxEu.bodies).toEqual(['fr']);
  });

  it('returns a mandatory message that no binding routes at once, not after its delay', async () => {
    const { ch, exchange } = await delayedExchange();
    const returned = new Promise<{ at: number; msg: ReturnedMessage }>((resolve) =>
      ch.on('return', (msg: ReturnedMessage) => resolve({ at: Date.now(), msg })),
    );
    const t0 = Date.now();
    ch.publish(exchange, 'nobody', Buffer.from('lost'), { mandatory: true, headers: { 'x-delay': 5000 } });
    const { at, msg } = await returned;
    expect(at - t0).toBeLessThan(1000);
    expect(msg.fields).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', exchange, routingKey: 'nobody' });
  });

  it('does not return a routable mandatory message', async () => {
    const { ch, exchange } = await delayedExchange();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'k');
    let returns = 0;
    ch.on('return', () => returns++);
    ch.publish(exchange, 'k', Buffer.from('fine'), { mandatory: true, headers: { 'x-delay': 20 } });
    const inbox = await consumeInto(ch, queue, { noAck: true });
    await inbox.atLeast(1);
    expect(returns).toBe(0);
  });

  it('passes delayed messages on through exchange-to-exchange bindings', async () => {
    const { ch, exchange } = await delayedExchange();
    const downstream = uniqueName('x-after-delay');
    await ch.assertExchange(downstream, 'fanout', { durable: false, autoDelete: true });
    await ch.bindExchange(downstream, exchange, 'fwd');
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, downstream, '');
    ch.publish(exchange, 'fwd', Buffer.from('via'), { headers: { 'x-delay': 20 } });
    const inbox = await consumeInto(ch, queue, { noAck: true });
    await inbox.atLeast(1);
    expect(inbox.bodies).toEqual(['via']);
  });

  it('drops pending messages when the exchange is deleted before they are due', async () => {
    const { ch, exchange } = await delayedExchange();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'k');
    ch.publish(exchange, 'k', Buffer.from('orphan'), { headers: { 'x-delay': 150 } });
    await ch.deleteExchange(exchange);
    await sleep(250);
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });

  it.each([
    ['missing', {}],
    ['an unknown type', { 'x-delayed-type': 'nonsense' }],
    ['itself', { 'x-delayed-type': 'x-delayed-message' }],
    ['not a string', { 'x-delayed-type': 1 }],
  ])('refuses x-delayed-type %s with 406', async (_what, args) => {
    const ch = await clients.channel();
    await expectCode(ch.assertExchange(uniqueName('x-delayed-bad'), 'x-delayed-message', { durable: false, arguments: args }), 406);
  });
});

describe.skipIf(isExternalBroker)('x-redelivery-backoff', () => {
  it('returns explicitly requeued messages after the next delay of the list, the last one repeating', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-redelivery-backoff': '60ms,150ms' } });
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    ch.sendToQueue(queue, Buffer.from('retry-me'));
    const returnedAt: number[] = [];
    for (let n = 1; n <= 3; n++) {
      await inbox.atLeast(n);
      returnedAt.push(Date.now());
      if (n % 2 === 1) worker.nack(inbox.messages[n - 1]!, false, true);
      else worker.reject(inbox.messages[n - 1]!, true);
    }
    await inbox.atLeast(4);
    worker.ack(inbox.messages[3]!);
    const waits = [1, 2, 3].map((i) => inbox.arrivals[i]! - returnedAt[i - 1]!);
    expect(waits[0]).toBeGreaterThanOrEqual(60 - CLOCK_SLACK_MS);
    expect(waits[1]).toBeGreaterThanOrEqual(150 - CLOCK_SLACK_MS);
    expect(waits[2]).toBeGreaterThanOrEqual(150 - CLOCK_SLACK_MS);
    for (const w of waits) expect(w).toBeLessThan(1500);
    expect(inbox.messages.map((m) => m.fields.redelivered)).toEqual([false, true, true, true]);
  });

  it('keeps other messages flowing while one waits out its back-off', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-redelivery-backoff': '200ms' } });
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    ch.sendToQueue(queue, Buffer.from('a'));
    await inbox.atLeast(1);
    worker.nack(inbox.messages[0]!, false, true);
    ch.sendToQueue(queue, Buffer.from('b'));
    await inbox.find('b');
    expect(inbox.bodies).toEqual(['a', 'b']);
    await inbox.atLeast(3);
    expect(inbox.bodies).toEqual(['a', 'b', 'a']);
  });

  it('requeues at once, without a back-off, when the channel holding the message closes', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-redelivery-backoff': '10s' } });
    const first = await clients.channel(conn);
    const inbox1 = await consumeInto(first, queue);
    ch.sendToQueue(queue, Buffer.from('crash'));
    await inbox1.atLeast(1);
    const second = await clients.channel(conn);
    const inbox2 = await consumeInto(second, queue);
    const closedAt = Date.now();
    await first.close();
    const [m] = await inbox2.atLeast(1, 2000);
    expect(Date.now() - closedAt).toBeLessThan(2000);
    expect(m!.fields.redelivered).toBe(true);
  });

  it.each(['soon', '1x', '-1s', '1s,,2s'])('refuses x-redelivery-backoff %j with 406', async (value) => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue(uniqueName('q-bad-backoff'), { exclusive: true, arguments: { 'x-redelivery-backoff': value } }), 406);
  });

  it('does not delay a basic.recover', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-redelivery-backoff': '10s' } });
    const inbox = await consumeInto(ch, queue);
    ch.sendToQueue(queue, Buffer.from('recovered'));
    await inbox.atLeast(1);
    await ch.recover();
    const [, again] = await inbox.atLeast(2, 2000);
    expect(again!.fields.redelivered).toBe(true);
    expect(errorsOf(ch)).toEqual([]);
  });
});
