/**
 * Consumer cancel notifications (RabbitMQ's consumer_cancel_notify capability): when a
 * queue with consumers goes away, the broker sends basic.cancel to each of them, which
 * amqplib reports by calling the consumer callback with `null`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, uniqueName, useClients, waitFor } from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

describe('consumer cancel notification', () => {
  it('calls the consumer with null when its queue is deleted from another connection', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-cancel');
    await ch.assertQueue(queue, { durable: false });
    const calls: Array<string | null> = [];
    const cancelled = new Promise<string>((resolve) => ch.on('cancel', (f: { consumerTag: string }) => resolve(f.consumerTag)));
    const { consumerTag } = await ch.consume(queue, (m) => calls.push(m === null ? null : m.content.toString()), { noAck: true });

    const other = await clients.open();
    other.ch.sendToQueue(queue, Buffer.from('before delete'));
    await waitFor(() => calls.length === 1, 'the delivery before the delete');
    await other.ch.deleteQueue(queue);

    expect(await cancelled).toBe(consumerTag);
    await waitFor(() => calls.length === 2, 'the cancel notification');
    expect(calls).toEqual(['before delete', null]);
    // The channel stays open after a server-sent cancel.
    await ch.checkExchange('amq.direct');
  });

  it('notifies every consumer of the deleted queue, on each of their channels', async () => {
    const { conn, ch } = await clients.open();
    const queue = uniqueName('q-cancel-many');
    await ch.assertQueue(queue, { durable: false });
    const notified: string[] = [];
    const second = await clients.channel(conn);
    await ch.consume(queue, (m) => m === null && notified.push('first'));
    await second.consume(queue, (m) => m === null && notified.push('second'));
    await (await clients.channel(conn)).deleteQueue(queue);
    await waitFor(() => notified.length === 2, 'both cancel notifications');
    expect(notified.sort()).toEqual(['first', 'second']);
  });

  it('delivers the notification through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const queue = uniqueName('q-cancel-cb');
    await callback((cb) => ch.assertQueue(queue, { durable: false }, cb));
    const gotNull = new Promise<boolean>((resolve) => ch.consume(queue, (m) => resolve(m === null), {}, () => {}));
    const other = await clients.open();
    await other.ch.deleteQueue(queue);
    expect(await gotNull).toBe(true);
  });

  it('sends no notification for a consumer the client cancelled itself', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-cancel-self');
    await ch.assertQueue(queue, { durable: false });
    let nulls = 0;
    const { consumerTag } = await ch.consume(queue, (m) => m === null && nulls++);
    await ch.cancel(consumerTag);
    await ch.deleteQueue(queue);
    await ch.checkExchange('amq.direct');
    expect(nulls).toBe(0);
  });
});
