/**
 * Consumers of task queues as RabbitMQ documents them: consumer priorities
 * (https://www.rabbitmq.com/docs/consumer-priority: `x-priority` on basic.consume; higher
 * priority consumers get messages while they have credit, lower ones when the higher are
 * blocked), single active consumer (https://www.rabbitmq.com/docs/consumers#single-active-consumer:
 * one consumer receives; on cancel or disconnect the next one in registration order takes
 * over), and basic.cancel from the server when the queue goes away (amqplib calls the
 * consumer with null).
 */
import { describe, expect, it } from 'vitest';
import { callback, uniqueName, waitFor } from '../../../helpers/amqp-clients.js';
import { consumeInto, useSuiteBroker, waitForReady } from './support.js';

const suite = useSuiteBroker();
const { clients } = suite;

describe('consumer priorities (x-priority)', () => {
  it('gives messages to the higher-priority consumer while it has credit, to the lower one while it is blocked', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const lowCh = await clients.channel(conn);
    const highCh = await clients.channel(conn);
    await highCh.prefetch(1);
    const low = await consumeInto(lowCh, queue, { noAck: true, priority: 1 });
    const high = await consumeInto(highCh, queue, { priority: 10 });
    ch.sendToQueue(queue, Buffer.from('1'));
    await high.find('1');
    // the high-priority consumer now holds its one unacked message: the low one gets the rest
    ch.sendToQueue(queue, Buffer.from('2'));
    ch.sendToQueue(queue, Buffer.from('3'));
    await low.atLeast(2);
    highCh.ack(high.messages[0]!);
    // a round trip on the acking channel: the ack is handled before the next publish
    await highCh.checkQueue(queue);
    // credit again: back to the high-priority consumer
    ch.sendToQueue(queue, Buffer.from('4'));
    await high.find('4');
    expect(high.bodies).toEqual(['1', '4']);
    expect(low.bodies).toEqual(['2', '3']);
  });

  it('ignores a lower-priority consumer registered first', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const low = await consumeInto(await clients.channel(conn), queue, { noAck: true, priority: -5 });
    const normal = await consumeInto(await clients.channel(conn), queue, { noAck: true });
    for (const b of ['a', 'b', 'c']) ch.sendToQueue(queue, Buffer.from(b));
    await normal.atLeast(3);
    expect(low.messages).toEqual([]);
  });

  it('round-robins between consumers of the same priority', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const a = await consumeInto(await clients.channel(conn), queue, { noAck: true, priority: 5 });
    const b = await consumeInto(await clients.channel(conn), queue, { noAck: true, priority: 5 });
    const low = await consumeInto(await clients.channel(conn), queue, { noAck: true, priority: 0 });
    for (const n of ['1', '2', '3', '4']) ch.sendToQueue(queue, Buffer.from(n));
    await waitFor(() => a.messages.length + b.messages.length === 4, 'four deliveries to the priority-5 consumers');
    expect(a.bodies).toEqual(['1', '3']);
    expect(b.bodies).toEqual(['2', '4']);
    expect(low.messages).toEqual([]);
  });

  it('takes x-priority through the callback API too', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    const got: string[] = [];
    await callback((cb) => ch.consume(queue, (m) => m && got.push(`low:${m.content}`), { noAck: true, priority: 1 }, cb));
    await callback((cb) => ch.consume(queue, (m) => m && got.push(`high:${m.content}`), { noAck: true, priority: 2 }, cb));
    ch.sendToQueue(queue, Buffer.from('x'));
    ch.sendToQueue(queue, Buffer.from('y'));
    await waitFor(() => got.length === 2, 'two deliveries');
    expect(got).toEqual(['high:x', 'high:y']);
  });
});

describe('single active consumer (x-single-active-consumer)', () => {
  const sac = { arguments: { 'x-single-active-consumer': true } };

  it('delivers to the first registered consumer only', async () => {
    const { ch } = await clients.open();
    const queue = await suite.sharedQueue(ch, 'q-sac', sac);
    const first = await consumeInto(await clients.channel(), queue, { noAck: true });
    const second = await consumeInto(await clients.channel(), queue, { noAck: true });
    for (const b of ['1', '2', '3']) ch.sendToQueue(queue, Buffer.from(b));
    await first.atLeast(3);
    expect(first.bodies).toEqual(['1', '2', '3']);
    expect(second.messages).toEqual([]);
  });

  it('hands over on cancel to the next consumer in registration order, which also gets what the old one gives back', async () => {
    const { ch } = await clients.open();
    const queue = await suite.sharedQueue(ch, 'q-sac-cancel', sac);
    const firstCh = await clients.channel();
    const first = await consumeInto(firstCh, queue);
    const second = await consumeInto(await clients.channel(), queue, { noAck: true });
    const third = await consumeInto(await clients.channel(), queue, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('held'));
    await first.find('held');
    await firstCh.cancel(first.consumerTag);
    ch.sendToQueue(queue, Buffer.from('after-cancel'));
    await second.find('after-cancel');
    // the cancelled consumer's unacked delivery stays with its channel until settled
    firstCh.nack(first.messages[0]!, false, true);
    const again = await second.find('held');
    expect(again.fields.redelivered).toBe(true);
    expect(third.messages).toEqual([]);
  });

  it('hands over when the active consumer’s connection closes', async () => {
    const { ch } = await clients.open();
    const queue = await suite.sharedQueue(ch, 'q-sac-close', sac);
    const firstConn = await clients.connect();
    const first = await consumeInto(await clients.channel(firstConn), queue);
    const second = await consumeInto(await clients.channel(), queue, { noAck: true });
    const third = await consumeInto(await clients.channel(), queue, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('unacked'));
    await first.find('unacked');
    await firstConn.close();
    const m = await second.find('unacked');
    expect(m.fields.redelivered).toBe(true);
    ch.sendToQueue(queue, Buffer.from('next'));
    await second.find('next');
    expect(third.messages).toEqual([]);
  });

  it('keeps messages in the queue, in order, while no consumer is active, and gives them to the next one', async () => {
    const { ch } = await clients.open();
    const queue = await suite.sharedQueue(ch, 'q-sac-gap', sac);
    for (const b of ['1', '2']) ch.sendToQueue(queue, Buffer.from(b));
    await waitForReady(ch, queue, 2);
    const only = await consumeInto(await clients.channel(), queue, { noAck: true });
    await only.atLeast(2);
    expect(only.bodies).toEqual(['1', '2']);
  });

  // RabbitMQ 3.10: 406 "invalid arg 'x-single-active-consumer' …: {unacceptable_type,longstr}"
  it.each(['yes', 1])('rejects x-single-active-consumer = %j with 406', async (value) => {
    const { ch } = await clients.open();
    await expect(ch.assertQueue('', { exclusive: true, arguments: { 'x-single-active-consumer': value } })).rejects.toMatchObject({ code: 406 });
  });

  it('rejects a redeclaration without x-single-active-consumer with 406', async () => {
    const { conn, ch } = await clients.open();
    const queue = await suite.sharedQueue(ch, 'q-sac-redeclare', sac);
    const other = await clients.channel(conn);
    await expect(other.assertQueue(queue, { durable: false })).rejects.toMatchObject({ code: 406 });
  });
});

describe('basic.cancel from the server', () => {
  it('cancels every consumer of a deleted single-active-consumer queue, active or waiting', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-sac-delete');
    await ch.assertQueue(queue, { durable: false, arguments: { 'x-single-active-consumer': true } });
    const active = await consumeInto(await clients.channel(), queue, { noAck: true });
    const waiting = await consumeInto(await clients.channel(), queue, { noAck: true });
    await ch.deleteQueue(queue);
    await waitFor(() => active.cancelled && waiting.cancelled, 'both consumers cancelled');
  });

  it('does not cancel the remaining consumer of an auto-delete queue when another consumer leaves', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const keeper = await clients.channel(conn);
    const { consumerTag } = await keeper.consume(queue, () => {});
    const watcher = await consumeInto(await clients.channel(conn), queue, { noAck: true });
    await keeper.cancel(consumerTag);
    // one consumer is left, so the auto-delete queue stays
    ch.sendToQueue(queue, Buffer.from('still there'));
    await watcher.find('still there');
    expect(watcher.cancelled).toBe(false);
  });

  it('cancels a consumer whose queue is deleted, through the callback API, and the channel stays usable', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    const cancelled = new Promise<boolean>((resolve) => ch.consume(queue, (m) => m === null && resolve(true), {}, () => {}));
    await callback((cb) => ch.deleteQueue(queue, {}, cb));
    expect(await cancelled).toBe(true);
    await callback((cb) => ch.checkExchange('amq.direct', cb));
  });
});
