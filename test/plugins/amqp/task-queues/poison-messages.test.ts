/**
 * Poison messages: `x-delivery-limit`. Warren has it on classic queues too; RabbitMQ 3.10 has
 * it on quorum queues only (https://www.rabbitmq.com/docs/quorum-queues#poison-message-handling):
 * every return of a delivery to the queue counts, redeliveries carry `x-delivery-count`, and a
 * message returned more than the limit is dead-lettered with reason `delivery_limit`.
 *
 * Against an external RabbitMQ the same tests run on a quorum queue, which is how their
 * expectations were checked; against Warren they run on a classic queue, the Warren-only case.
 */
import type { Channel, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { bodies, drain, expectCode, uniqueName } from '../../../helpers/amqp-clients.js';
import { isExternalBroker } from '../../../helpers/broker.js';
import { consumeInto, deadLetterTarget, expectDeath, getOne, useSuiteBroker, waitForReady, xDeathOf } from './support.js';

const suite = useSuiteBroker();
const { clients } = suite;

/** A queue with x-delivery-limit: quorum on RabbitMQ (its only kind with the limit), classic on Warren. */
async function limitedQueue(ch: Channel, limit: number, extra: Options.AssertQueue = {}): Promise<string> {
  const args = { ...extra.arguments, 'x-delivery-limit': limit };
  if (isExternalBroker) {
    return suite.sharedQueue(ch, 'q-poison', { ...extra, durable: true, arguments: { ...args, 'x-queue-type': 'quorum' } });
  }
  return suite.sharedQueue(ch, 'q-poison', { ...extra, arguments: args });
}

describe('x-delivery-limit', () => {
  it('counts returns in x-delivery-count and dead-letters with reason delivery_limit after the limit', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = await limitedQueue(ch, 2, { deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('poison'), { headers: { job: 7 } });
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    for (let n = 1; n <= 3; n++) {
      await inbox.atLeast(n);
      worker.nack(inbox.messages[n - 1]!, false, true);
    }
    const before = Date.now();
    const dead = await getOne(ch, dlq, 'the message dead-lettered after three deliveries');
    expect(inbox.messages.map((m) => [m.fields.redelivered, m.properties.headers?.['x-delivery-count']])).toEqual([
      [false, undefined],
      [true, 1],
      [true, 2],
    ]);
    expect(inbox.messages.every((m) => m.properties.headers?.job === 7)).toBe(true);
    expect(dead.content.toString()).toBe('poison');
    expectDeath(xDeathOf(dead)[0], { count: 1, reason: 'delivery_limit', queue, exchange: '', 'routing-keys': [queue] }, { from: before - 5000 });
    expect(dead.properties.headers?.['x-first-death-reason']).toBe('delivery_limit');
    // no fourth delivery
    ch.sendToQueue(queue, Buffer.from('marker'));
    await inbox.find('marker');
    expect(inbox.bodies).toEqual(['poison', 'poison', 'poison', 'marker']);
  });

  it('counts basic.reject with requeue and returns from a closed channel alike', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = await limitedQueue(ch, 1, { deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('crashy'));
    const first = await clients.channel(conn);
    const inbox1 = await consumeInto(first, queue);
    await inbox1.atLeast(1);
    await first.close(); // the worker died holding it: returned (1)
    const second = await clients.channel(conn);
    const inbox2 = await consumeInto(second, queue);
    const [again] = await inbox2.atLeast(1);
    expect(again!.fields.redelivered).toBe(true);
    expect(again!.properties.headers?.['x-delivery-count']).toBe(1);
    second.reject(again!, true); // returned (2): over the limit of 1
    const dead = await getOne(ch, dlq);
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'delivery_limit', queue, count: 1 });
  });

  it('dead-letters on the first return with a limit of 0', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = await limitedQueue(ch, 0, { deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('one-shot'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    await inbox.atLeast(1);
    worker.nack(inbox.messages[0]!, false, true);
    const dead = await getOne(ch, dlq);
    expect(dead.content.toString()).toBe('one-shot');
    expect(inbox.messages).toHaveLength(1);
  });

  it('drops the message after the limit when the queue has no dead-letter exchange', async () => {
    const { conn, ch } = await clients.open();
    const queue = await limitedQueue(ch, 0);
    ch.sendToQueue(queue, Buffer.from('gone'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    await inbox.atLeast(1);
    worker.nack(inbox.messages[0]!, false, true);
    ch.sendToQueue(queue, Buffer.from('next'));
    await inbox.find('next');
    expect(inbox.bodies).toEqual(['gone', 'next']);
    worker.ack(inbox.messages[1]!);
    await waitForReady(ch, queue, 0);
  });

  it('leaves messages that are acknowledged within the limit alone, whatever their history', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = await limitedQueue(ch, 3, { deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('flaky'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, queue);
    await inbox.atLeast(1);
    worker.nack(inbox.messages[0]!, false, true);
    await inbox.atLeast(2);
    worker.ack(inbox.messages[1]!);
    await waitForReady(ch, queue, 0);
    expect(bodies(await drain(ch, dlq))).toEqual([]);
  });

  // Warren-only: RabbitMQ 3.10 does not validate x-delivery-limit at all (a quorum queue
  // accepts -1, 1.5 or 'three'); Warren holds it to the rules of its other count arguments.
  it.skipIf(isExternalBroker).each([-1, 1.5, 'three'])('rejects x-delivery-limit = %j with 406', async (value) => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue(uniqueName('q-bad-limit'), { exclusive: true, arguments: { 'x-delivery-limit': value } }), 406);
  });
});
