/**
 * Quorum queues (`x-queue-type: quorum`) with amqplib, as RabbitMQ has them
 * (rabbitmq.com/docs/quorum-queues): declaration rules and texts, poison-message handling,
 * at-least-once dead-lettering, length limits, TTLs, single active consumer, consumer
 * priorities, global QoS refused. Every case that RabbitMQ 3.10 shares was run against it
 * (WARREN_TEST_AMQP_URL); the Warren-only ones are RabbitMQ 4.x behaviour (a default delivery
 * limit of 20). Restart survival: test/durability/quorum-restart.test.ts.
 */
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { bodies, drain, expectCode, firstError, sleep, uniqueName, waitFor } from '../../helpers/amqp-clients.js';
import { isExternalBroker } from '../../helpers/broker.js';
import { consumeInto, deadLetterTarget, useSuiteBroker, waitForReady, xDeathOf } from './task-queues/support.js';

const suite = useSuiteBroker();
const { clients } = suite;

function quorum(ch: Channel, args: Record<string, unknown> = {}, options: Options.AssertQueue = {}): Promise<string> {
  return suite.sharedQueue(ch, 'qq', { durable: true, ...options, arguments: { 'x-queue-type': 'quorum', ...args } });
}

describe('declaring a quorum queue', () => {
  it('takes the arguments it knows and accepts, then ignores, the replication ones', async () => {
    const { ch } = await clients.open();
    const q = await quorum(ch, { 'x-quorum-initial-group-size': 3, 'x-queue-leader-locator': 'balanced', 'x-delivery-limit': 3, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'dlx', 'x-max-length': 10, 'x-message-ttl': 60000, 'x-single-active-consumer': true });
    // redeclaring with the same arguments is fine; as a classic queue it is not
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3, 'x-queue-leader-locator': 'balanced', 'x-delivery-limit': 3, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'dlx', 'x-max-length': 10, 'x-message-ttl': 60000, 'x-single-active-consumer': true } });
    const err = await expectCode(ch.assertQueue(q, { durable: true }), 406);
    expect(err.message).toContain('inequivalent arg');
  });

  it.each([
    ['non-durable', { durable: false }, "invalid property 'non-durable'"],
    ['exclusive', { exclusive: true }, "invalid property 'exclusive-owner'"],
    ['auto-delete', { autoDelete: true }, "invalid property 'auto-delete'"],
  ] as const)('refuses a %s one with 406, as RabbitMQ does', async (_what, flags, text) => {
    const { ch } = await clients.open();
    const err = await expectCode(ch.assertQueue(uniqueName('qq-bad'), { durable: true, ...flags, arguments: { 'x-queue-type': 'quorum' } }), 406);
    expect(err.message).toContain(text);
  });

  it('refuses a server-named one', async () => {
    const { ch } = await clients.open();
    const err = await expectCode(ch.assertQueue('', { durable: true, arguments: { 'x-queue-type': 'quorum' } }), 406);
    expect(err.message).toContain('Cannot declare a server-named queue for type rabbit_quorum_queue');
  });

  it.each([
    ['x-max-priority', 5, 'of queue type rabbit_quorum_queue'],
    ['x-queue-mode', 'lazy', 'of queue type rabbit_quorum_queue'],
    ['x-dead-letter-strategy', 'sometimes', 'invalid_dlx_strategy'],
    ['x-queue-leader-locator', 'nearest', 'invalid_queue_locator_arg'],
    ['x-quorum-initial-group-size', 'three', 'expected integer'],
  ] as const)('refuses %s = %j with 406', async (key, value, text) => {
    const { ch } = await clients.open();
    const err = await expectCode(ch.assertQueue(uniqueName('qq-bad'), { durable: true, arguments: { 'x-queue-type': 'quorum', [key]: value } }), 406);
    expect(err.message).toContain(`invalid arg '${key}'`);
    expect(err.message).toContain(text);
  });

  it('accepts x-overflow reject-publish-dlx and treats it as drop-head, as RabbitMQ does', async () => {
    const { ch } = await clients.open();
    const q = await quorum(ch, { 'x-overflow': 'reject-publish-dlx', 'x-max-length': 1 });
    const pub = await clients.confirmChannel();
    for (const b of ['a', 'b']) pub.sendToQueue(q, Buffer.from(b));
    await pub.waitForConfirms();
    expect(bodies(await drain(ch, q))).toEqual(['b']);
  });

  it('refuses a consumer on a channel with a global prefetch (540 NOT_IMPLEMENTED, as RabbitMQ)', async () => {
    const { ch } = await clients.open();
    const q = await quorum(ch);
    const conn = await clients.connect();
    const other = await clients.channel(conn);
    await other.prefetch(5, true);
    await expect(other.consume(q, () => {})).rejects.toThrow();
    const err = await firstError(conn);
    expect(err.code).toBe(540);
    expect(err.message).toContain('does not support global qos');
  });
});

describe('poison messages', () => {
  it('marks redeliveries with x-delivery-count and dead-letters past x-delivery-limit', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const q = await quorum(ch, { 'x-delivery-limit': 2, 'x-dead-letter-exchange': dlx });
    ch.sendToQueue(q, Buffer.from('poison'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, q);
    for (let n = 1; n <= 3; n++) {
      await inbox.atLeast(n);
      worker.nack(inbox.messages[n - 1]!, false, true);
    }
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 'the dead-lettered message');
    expect(inbox.messages.map((m) => m.properties.headers?.['x-delivery-count'])).toEqual([undefined, 1, 2]);
    const [dead] = await drain(ch, dlq);
    expect(xDeathOf(dead!)[0]).toMatchObject({ reason: 'delivery_limit', queue: q, count: 1 });
  });

  it('drops a poison message past the limit when there is no dead-letter exchange', async () => {
    const { conn, ch } = await clients.open();
    const q = await quorum(ch, { 'x-delivery-limit': 0 });
    ch.sendToQueue(q, Buffer.from('poison'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, q);
    await inbox.atLeast(1);
    worker.nack(inbox.messages[0]!, false, true);
    await waitForReady(ch, q, 0);
    await sleep(50);
    expect(inbox.messages.length).toBe(1);
  });

  it.skipIf(isExternalBroker)('has a delivery limit of 20 by default (RabbitMQ 4.x)', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const q = await quorum(ch, { 'x-dead-letter-exchange': dlx });
    ch.sendToQueue(q, Buffer.from('poison'));
    const worker = await clients.channel(conn);
    const inbox = await consumeInto(worker, q);
    for (let n = 1; n <= 21; n++) {
      await inbox.atLeast(n);
      worker.nack(inbox.messages[n - 1]!, false, true);
    }
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 'the dead-lettered message');
    expect(inbox.messages.length).toBe(21);
    expect(inbox.messages[20]!.properties.headers?.['x-delivery-count']).toBe(20);
  });
});

describe('dead-lettering', () => {
  it('at-least-once keeps a message no target took, counts it against the limit, and delivers it once a target appears', async () => {
    const { ch } = await clients.open();
    const dlx = uniqueName('dlx-later');
    const q = await quorum(ch, { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': dlx, 'x-max-length': 1 });
    const pub = await clients.confirmChannel();
    pub.sendToQueue(q, Buffer.from('first'));
    await pub.waitForConfirms();
    const m = await ch.get(q);
    expect(m).not.toBe(false);
    ch.nack(m as never, false, false);
    await sleep(100);
    // the dead-letter exchange does not exist yet: the message is kept and fills the queue
    // (RabbitMQ lets a quorum queue overshoot reject-publish by a message: Warren does not)
    expect(await publishUntilNacked(pub, q, 2)).toBeLessThanOrEqual(2);
    // RabbitMQ's dead-letter worker retries on a timer of minutes; Warren's every second
    if (isExternalBroker) return;
    await ch.assertExchange(dlx, 'fanout', { autoDelete: true });
    const { queue: dlq } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(dlq, dlx, '');
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 'the retried dead-letter', 10_000);
    expect(bodies(await drain(ch, dlq))).toEqual(['first']);
  }, 20_000);

  it('at-most-once (the default) drops a message whose dead-letter exchange is missing', async () => {
    const { ch } = await clients.open();
    const q = await quorum(ch, { 'x-dead-letter-exchange': uniqueName('missing'), 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    const pub = await clients.confirmChannel();
    pub.sendToQueue(q, Buffer.from('first'));
    await pub.waitForConfirms();
    const m = await ch.get(q);
    ch.nack(m as never, false, false);
    await sleep(50);
    pub.sendToQueue(q, Buffer.from('second'));
    await pub.waitForConfirms();
    expect(bodies(await drain(ch, q))).toEqual(['second']);
  });
});

describe('limits and TTLs', () => {
  it('drop-head dead-letters the oldest with reason maxlen; reject-publish nacks the publisher', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const dropping = await quorum(ch, { 'x-max-length': 2, 'x-dead-letter-exchange': dlx });
    const pub = await clients.confirmChannel();
    for (const b of ['1', '2', '3']) pub.sendToQueue(dropping, Buffer.from(b));
    await pub.waitForConfirms();
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 1, 'the dropped head');
    expect(bodies(await drain(ch, dropping))).toEqual(['2', '3']);
    expect(xDeathOf((await drain(ch, dlq))[0]!)[0]).toMatchObject({ reason: 'maxlen' });

    const rejecting = await quorum(ch, { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    // the first publish beyond the limit is nacked on Warren; RabbitMQ may take one more first
    expect(await publishUntilNacked(pub, rejecting, 3)).toBe(isExternalBroker ? 3 : 2);
  });

  it('expires messages by x-message-ttl and per-message expiration, dead-lettering them', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const q = await quorum(ch, { 'x-message-ttl': 50, 'x-dead-letter-exchange': dlx });
    ch.sendToQueue(q, Buffer.from('queue ttl'));
    ch.sendToQueue(q, Buffer.from('message ttl'), { expiration: '10' });
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 2, 'both expired', 5000);
    expect(bodies(await drain(ch, dlq)).sort()).toEqual(['message ttl', 'queue ttl']);
  });

  it.skipIf(isExternalBroker)('x-expires deletes the unused queue; a redeclaration does not renew the lease', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('qq-expires');
    const args = { 'x-queue-type': 'quorum', 'x-expires': 300 };
    await ch.assertQueue(name, { durable: true, arguments: args });
    await sleep(150);
    await ch.assertQueue(name, { durable: true, arguments: args });
    await sleep(250);
    const probe = await clients.channel();
    await expectCode(probe.checkQueue(name), 404);
  });
});

describe('consumers', () => {
  it('single active consumer: only the first consumer gets messages until it goes', async () => {
    const { conn, ch } = await clients.open();
    const q = await quorum(ch, { 'x-single-active-consumer': true });
    const a = await clients.channel(conn);
    const b = await clients.channel(conn);
    const first = await consumeInto(a, q, { noAck: true });
    const second = await consumeInto(b, q, { noAck: true });
    for (const x of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(x));
    await first.atLeast(3);
    expect(second.messages.length).toBe(0);
    await a.cancel(first.consumerTag!);
    ch.sendToQueue(q, Buffer.from('4'));
    await second.atLeast(1);
    expect(bodies(second.messages)).toEqual(['4']);
  });

  it('consumer priorities: the higher-priority consumer with credit is served first', async () => {
    const { conn, ch } = await clients.open();
    const q = await quorum(ch);
    const low = await clients.channel(conn);
    const high = await clients.channel(conn);
    const lowInbox = await consumeInto(low, q, { noAck: true, priority: 1 });
    const highInbox = await consumeInto(high, q, { noAck: true, priority: 10 });
    for (const x of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(x));
    await highInbox.atLeast(3);
    expect(lowInbox.messages.length).toBe(0);
  });
});

/** Publishes with confirms until one is nacked (at most `max`); returns the number of the nacked one, or 0. */
async function publishUntilNacked(pub: ConfirmChannel, queue: string, max: number): Promise<number> {
  for (let i = 1; i <= max; i++) {
    const acked = await new Promise<boolean>((resolve) => pub.sendToQueue(queue, Buffer.from(`p${i}`), {}, (err) => resolve(err === null)));
    if (!acked) return i;
  }
  return 0;
}
