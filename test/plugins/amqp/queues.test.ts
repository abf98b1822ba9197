/**
 * queue.declare / bind / unbind / purge / delete (AMQP 0-9-1 §1.7 class queue) with
 * RabbitMQ's rules: server-named queues, 404 / 405 / 406 / 403 errors, counts in
 * declare-ok, exclusive and auto-delete lifetimes.
 */
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bodies,
  callback,
  consumeCount,
  drain,
  expectCode,
  firstError,
  publishConfirmed,
  uniqueName,
  useClients,
  waitFor,
} from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

/** Passive declare on a throw-away channel (a 404 closes the channel it happens on). */
async function queueExists(conn: ChannelModel, queue: string): Promise<boolean> {
  const ch = await clients.channel(conn);
  try {
    await ch.checkQueue(queue);
    await ch.close();
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

describe('queue.declare', () => {
  it('names a queue declared with an empty name amq.gen-… and reports zero counts', async () => {
    const { ch } = await clients.open();
    const ok = await ch.assertQueue('', { exclusive: true });
    expect(ok.queue).toMatch(/^amq\.gen-.+/);
    expect(ok).toMatchObject({ messageCount: 0, consumerCount: 0 });
    const again = await ch.assertQueue('', { exclusive: true });
    expect(again.queue).not.toBe(ok.queue);
  });

  it('declares, counts and deletes through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const name = uniqueName('q-cb');
    const ok = await callback<{ queue: string; messageCount: number }>((cb) => ch.assertQueue(name, { durable: false }, cb));
    expect(ok).toMatchObject({ queue: name, messageCount: 0 });
    ch.sendToQueue(name, Buffer.from('one'));
    ch.sendToQueue(name, Buffer.from('two'));
    // A synchronous method on the same channel is answered after the publishes are handled.
    const purged = await callback<{ messageCount: number }>((cb) => ch.purgeQueue(name, cb));
    expect(purged.messageCount).toBe(2);
    const deleted = await callback<{ messageCount: number }>((cb) => ch.deleteQueue(name, {}, cb));
    expect(deleted.messageCount).toBe(0);
  });

  it('answers a passive declare of a missing queue with 404 NOT_FOUND', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.checkQueue(uniqueName('missing')), 404);
    expect((await firstError(ch)).code).toBe(404);
  });

  it('declares durable, exclusive and auto-delete queues, and a passive declare finds each', async () => {
    const { ch } = await clients.open();
    const durable = uniqueName('q-durable');
    const exclusive = uniqueName('q-exclusive');
    const autoDelete = uniqueName('q-auto');
    await ch.assertQueue(durable, { durable: true });
    await ch.assertQueue(exclusive, { exclusive: true });
    await ch.assertQueue(autoDelete, { autoDelete: true, durable: false });
    for (const q of [durable, exclusive, autoDelete]) expect((await ch.checkQueue(q)).queue).toBe(q);
    await ch.deleteQueue(durable);
    await ch.deleteQueue(autoDelete);
  });

  it('accepts a redeclaration with the same properties and reports the current counts', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('q-same');
    const args = { 'x-max-length': 10 };
    await ch.assertQueue(name, { durable: false, arguments: args });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, '', name, ['a', 'b']);
    expect(await ch.assertQueue(name, { durable: false, arguments: args })).toEqual({
      queue: name,
      messageCount: 2,
      consumerCount: 0,
    });
    await ch.deleteQueue(name);
  });

  it.each([
    ['another x-max-length', { durable: false, arguments: { 'x-max-length': 20 } }],
    ['x-max-length missing', { durable: false }],
    ['another durable flag', { durable: true, arguments: { 'x-max-length': 10 } }],
    ['another auto-delete flag', { durable: false, autoDelete: true, arguments: { 'x-max-length': 10 } }],
  ])('rejects a redeclaration with %s with 406 PRECONDITION_FAILED', async (_what, options) => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-redeclare');
    await ch.assertQueue(name, { durable: false, arguments: { 'x-max-length': 10 } });
    await expectCode(ch.assertQueue(name, options), 406);
    await (await clients.channel(conn)).deleteQueue(name);
  });

  it('refuses to declare a queue named amq.* with 403 ACCESS_REFUSED', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue(`amq.${uniqueName('q')}`), 403);
  });
});

describe('exclusive queues', () => {
  async function exclusiveQueueOfAnotherConnection() {
    const owner = await clients.open();
    const { queue } = await owner.ch.assertQueue(uniqueName('q-excl'), { exclusive: true });
    return { owner, queue };
  }

  it.each([
    ['declare', (ch: import('amqplib').Channel, q: string) => ch.assertQueue(q, { exclusive: true })],
    ['passive declare', (ch: import('amqplib').Channel, q: string) => ch.checkQueue(q)],
    ['consume', (ch: import('amqplib').Channel, q: string) => ch.consume(q, () => {})],
    ['get', (ch: import('amqplib').Channel, q: string) => ch.get(q)],
    ['purge', (ch: import('amqplib').Channel, q: string) => ch.purgeQueue(q)],
    ['delete', (ch: import('amqplib').Channel, q: string) => ch.deleteQueue(q)],
  ])('answers %s from another connection with 405 RESOURCE_LOCKED', async (_op, operation) => {
    const { queue } = await exclusiveQueueOfAnotherConnection();
    const { ch } = await clients.open();
    await expectCode(operation(ch, queue), 405);
  });

  it('lets other channels of the owning connection use it', async () => {
    const { owner, queue } = await exclusiveQueueOfAnotherConnection();
    const other = await clients.channel(owner.conn);
    other.sendToQueue(queue, Buffer.from('mine'));
    const { messages } = await consumeCount(other, queue, 1, { noAck: true });
    expect(bodies(messages)).toEqual(['mine']);
  });

  it('deletes an exclusive queue when its connection closes', async () => {
    const { owner, queue } = await exclusiveQueueOfAnotherConnection();
    const observer = await clients.connect();
    await owner.conn.close();
    await waitFor(async () => {
      // A passive declare from here fails with 405 while the owner lives, 404 once the queue is gone.
      const ch = await clients.channel(observer);
      try {
        await ch.checkQueue(queue);
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 'the exclusive queue to disappear');
  });
});

describe('queue.delete and queue.purge', () => {
  it('returns the number of messages deleted with the queue', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('q-del');
    await ch.assertQueue(name, { durable: false });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, '', name, ['1', '2', '3']);
    expect(await ch.deleteQueue(name)).toEqual({ messageCount: 3 });
    await expectCode(ch.checkQueue(name), 404);
  });

  it('refuses if-empty deletion of a queue holding messages with 406', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-del-nonempty');
    await ch.assertQueue(name, { durable: false });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, '', name, ['x']);
    await expectCode(ch.deleteQueue(name, { ifEmpty: true }), 406);
    const ch2 = await clients.channel(conn);
    await ch2.purgeQueue(name);
    expect(await ch2.deleteQueue(name, { ifEmpty: true })).toEqual({ messageCount: 0 });
  });

  it('refuses if-unused deletion of a queue with a consumer with 406', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-del-used');
    await ch.assertQueue(name, { durable: false });
    const consumer = await clients.channel(conn);
    const { consumerTag } = await consumer.consume(name, () => {});
    await expectCode(ch.deleteQueue(name, { ifUnused: true }), 406);
    await consumer.cancel(consumerTag);
    const ch2 = await clients.channel(conn);
    await ch2.deleteQueue(name, { ifUnused: true });
    expect(await queueExists(conn, name)).toBe(false);
  });

  it('purges ready messages and returns how many', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, '', queue, ['1', '2', '3', '4']);
    expect(await ch.purgeQueue(queue)).toEqual({ messageCount: 4 });
    expect(await ch.purgeQueue(queue)).toEqual({ messageCount: 0 });
    expect(await ch.get(queue)).toBe(false);
  });

  it('answers a purge of a missing queue with 404', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.purgeQueue(uniqueName('missing')), 404);
  });
});

describe('message and consumer counts', () => {
  it('counts ready messages (not unacknowledged ones) and consumers', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, '', queue, ['1', '2', '3']);
    expect(await ch.checkQueue(queue)).toEqual({ queue, messageCount: 3, consumerCount: 0 });

    const c1 = await clients.channel(conn);
    const c2 = await clients.channel(conn);
    await c1.prefetch(1);
    await c2.prefetch(1);
    await consumeCount(c1, queue, 1);
    await consumeCount(c2, queue, 1);
    expect(await ch.checkQueue(queue)).toEqual({ queue, messageCount: 1, consumerCount: 2 });
  });
});

describe('queue.bind and queue.unbind', () => {
  it('routes by binding and stops routing once unbound', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const key = uniqueName('key');
    await ch.bindQueue(queue, 'amq.direct', key);
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, 'amq.direct', key, ['bound']);
    expect(bodies(await drain(ch, queue))).toEqual(['bound']);
    await ch.unbindQueue(queue, 'amq.direct', key);
    await publishConfirmed(pub, 'amq.direct', key, ['unbound']);
    expect(await drain(ch, queue)).toEqual([]);
  });

  it('treats a repeated bind as one binding and an unbind of a missing binding as a no-op', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const key = uniqueName('key');
    await ch.bindQueue(queue, 'amq.direct', key);
    await ch.bindQueue(queue, 'amq.direct', key);
    await ch.unbindQueue(queue, 'amq.direct', uniqueName('never-bound'));
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, 'amq.direct', key, ['once']);
    expect(bodies(await drain(ch, queue))).toEqual(['once']);
  });

  it('answers a bind to a missing exchange or of a missing queue with 404', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await expectCode(ch.bindQueue(queue, uniqueName('x-missing'), 'k'), 404);
    const ch2 = await clients.channel(conn);
    await expectCode(ch2.bindQueue(uniqueName('q-missing'), 'amq.direct', 'k'), 404);
  });

  it('refuses to bind to the default exchange with 403 ACCESS_REFUSED', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await expectCode(ch.bindQueue(queue, '', 'anything'), 403);
  });
});

describe('auto-delete queues', () => {
  it('deletes an auto-delete queue once its last consumer cancels', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-auto');
    await ch.assertQueue(name, { autoDelete: true, durable: false });
    const a = await ch.consume(name, () => {});
    const b = await ch.consume(name, () => {});
    await ch.cancel(a.consumerTag);
    expect(await queueExists(conn, name)).toBe(true);
    await ch.cancel(b.consumerTag);
    await waitFor(async () => !(await queueExists(conn, name)), 'the auto-delete queue to disappear');
  });

  it('deletes an auto-delete queue when the channel of its only consumer closes', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-auto-ch');
    await ch.assertQueue(name, { autoDelete: true, durable: false });
    const consumer = await clients.channel(conn);
    await consumer.consume(name, () => {});
    await consumer.close();
    await waitFor(async () => !(await queueExists(conn, name)), 'the auto-delete queue to disappear');
  });

  it('keeps an auto-delete queue that never had a consumer', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-auto-idle');
    await ch.assertQueue(name, { autoDelete: true, durable: false });
    expect(await queueExists(conn, name)).toBe(true);
    await ch.deleteQueue(name);
  });
});
