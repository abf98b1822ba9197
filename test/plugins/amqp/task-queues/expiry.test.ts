/**
 * Message and queue expiry as RabbitMQ documents it (https://www.rabbitmq.com/docs/ttl):
 * per-queue `x-message-ttl`, per-message `expiration` (the lower of the two applies), expired
 * messages never delivered — also when they are not at the head — and dead-lettered with
 * reason `expired` when the queue has a dead-letter exchange; a TTL of 0 delivers only to a
 * consumer that can take the message at once; `x-expires` deletes an unused queue.
 */
import { describe, expect, it } from 'vitest';
import { expectCode, firstError, publishConfirmed, sleep, uniqueName, waitFor } from '../../../helpers/amqp-clients.js';
import { consumeInto, deadLetterTarget, expectDeath, expectDeathHeaders, expectFirstDeath, getOne, useSuiteBroker, waitForReady, xDeathOf } from './support.js';

const { clients, sharedQueue } = useSuiteBroker();

/**
 * Whether queue `name` exists, probed with a mandatory publish (returned when there is no such
 * queue). Not with queue.declare passive: RabbitMQ counts that as use of the queue and restarts
 * its x-expires clock, so polling that way would keep the queue alive.
 */
async function queueExists(name: string): Promise<boolean> {
  const ch = await clients.confirmChannel();
  let returned = false;
  ch.on('return', () => (returned = true));
  ch.publish('', name, Buffer.from('probe'), { mandatory: true });
  // basic.return comes before the publisher confirm (RabbitMQ confirms docs)
  await ch.waitForConfirms();
  await ch.close();
  return !returned;
}

describe('per-queue x-message-ttl', () => {
  it('removes a message once the queue TTL has passed, without a consumer', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 50 });
    // confirmed: the message is in the queue before the count is polled
    await publishConfirmed(await clients.confirmChannel(), '', queue, ['short-lived']);
    // RabbitMQ drops expired messages from the head on a timer, so the count falls to 0 by itself
    await waitForReady(ch, queue, 0);
    expect(await ch.get(queue, { noAck: true })).toBe(false);
  });

  it('dead-letters an expired message with reason expired and the x-death RabbitMQ writes', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 30, deadLetterExchange: dlx });
    const before = Date.now();
    ch.publish('', queue, Buffer.from('job'), { headers: { app: 'kept' }, messageId: 'm-1' });
    const m = await getOne(ch, dlq, 'the expired message in the dead-letter queue');
    expect(m.content.toString()).toBe('job');
    expect(m.fields).toMatchObject({ exchange: dlx, routingKey: queue });
    expect(m.properties.messageId).toBe('m-1');
    expect(m.properties.headers?.app).toBe('kept');
    const deaths = xDeathOf(m);
    expect(deaths).toHaveLength(1);
    // no per-message TTL, so no original-expiration
    expectDeath(deaths[0], { count: 1, reason: 'expired', queue, exchange: '', 'routing-keys': [queue] }, { from: before });
    expectFirstDeath(m, 'expired', queue, '');
    expectDeathHeaders(m, { app: 'kept' });
    expect(m.properties.expiration).toBeUndefined();
  });
});

describe('per-message expiration', () => {
  it('expires by the message TTL when it is lower than the queue TTL, recording original-expiration', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 60_000, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('message-ttl-wins'), { expiration: '40' });
    const m = await getOne(ch, dlq);
    expect(m.content.toString()).toBe('message-ttl-wins');
    // the expiration property is removed so the message does not expire again downstream
    expect(m.properties.expiration).toBeUndefined();
    expectDeath(xDeathOf(m)[0], {
      count: 1,
      reason: 'expired',
      queue,
      exchange: '',
      'routing-keys': [queue],
      'original-expiration': '40',
    });
    await waitForReady(ch, queue, 0);
  });

  it('expires by the queue TTL when it is lower than the message TTL', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 40, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('queue-ttl-wins'), { expiration: '60000' });
    const m = await getOne(ch, dlq);
    expect(m.content.toString()).toBe('queue-ttl-wins');
    expectDeath(xDeathOf(m)[0], {
      count: 1,
      reason: 'expired',
      queue,
      exchange: '',
      'routing-keys': [queue],
      'original-expiration': '60000',
    });
  });

  it('keeps a message whose TTL has not passed', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 60_000 });
    ch.sendToQueue(queue, Buffer.from('still-valid'), { expiration: '60000' });
    const m = await getOne(ch, queue);
    expect(m.content.toString()).toBe('still-valid');
    // the expiration property travels with the delivery unchanged
    expect(m.properties.expiration).toBe('60000');
  });

  it('never delivers an expired message that sat behind a longer-lived one, and dead-letters it when it reaches the head', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('long'), { expiration: '60000' });
    ch.sendToQueue(queue, Buffer.from('short'), { expiration: '20' });
    ch.sendToQueue(queue, Buffer.from('no-ttl'));
    await waitForReady(ch, queue, 3);
    await sleep(60); // 'short' is now expired but not at the head, so still counted
    const consumer = await clients.channel(conn);
    const inbox = await consumeInto(consumer, queue, { noAck: true });
    await inbox.atLeast(2);
    const dead = await getOne(ch, dlq, "'short' in the dead-letter queue");
    expect(dead.content.toString()).toBe('short');
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'expired', queue, 'original-expiration': '20' });
    // a later message arriving proves nothing else was on its way
    ch.sendToQueue(queue, Buffer.from('marker'));
    await inbox.find('marker');
    expect(inbox.bodies).toEqual(['long', 'no-ttl', 'marker']);
  });

  it('does not return an expired message to basic.get once it reaches the head', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('long'));
    ch.sendToQueue(queue, Buffer.from('short'), { expiration: '20' });
    await waitForReady(ch, queue, 2);
    await sleep(60);
    const first = await ch.get(queue, { noAck: true });
    expect(first && first.content.toString()).toBe('long');
    expect(await ch.get(queue, { noAck: true })).toBe(false);
  });

  it('rejects a publish with an expiration that is not a non-negative integer with 406', async () => {
    for (const expiration of ['abc', '-1', '1.5']) {
      const ch = await clients.channel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(queue, Buffer.from('bad'), { expiration });
      expect((await firstError(ch)).code, `expiration '${expiration}'`).toBe(406);
    }
  });
});

describe('TTL 0', () => {
  it('delivers a zero-TTL message to a consumer that can take it at once', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 0 });
    const inbox = await consumeInto(ch, queue, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('now'));
    ch.sendToQueue(queue, Buffer.from('now-too'), { expiration: '0' });
    await inbox.atLeast(2);
    expect(inbox.bodies).toEqual(['now', 'now-too']);
  });

  it('expires a zero-TTL message at once when no consumer is waiting, dead-lettering it', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('nobody-home'), { expiration: '0' });
    const dead = await getOne(ch, dlq);
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'expired', queue, 'original-expiration': '0' });
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });

  it('expires a zero-TTL message when the only consumer has no credit left', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, messageTtl: 0, deadLetterExchange: dlx });
    const consumer = await clients.channel(conn);
    await consumer.prefetch(1);
    const inbox = await consumeInto(consumer, queue);
    ch.sendToQueue(queue, Buffer.from('taken'));
    await inbox.find('taken');
    ch.sendToQueue(queue, Buffer.from('blocked'));
    const dead = await getOne(ch, dlq);
    expect(dead.content.toString()).toBe('blocked');
    consumer.ack(inbox.messages[0]!);
    ch.sendToQueue(queue, Buffer.from('after-ack'));
    await inbox.find('after-ack');
    expect(inbox.bodies).toEqual(['taken', 'after-ack']);
  });
});

describe('queue expiry (x-expires)', () => {
  it('deletes a queue nobody uses, messages and all', async () => {
    const { ch } = await clients.open();
    const queue = await sharedQueue(ch, 'q-expires', { expires: 150 });
    ch.sendToQueue(queue, Buffer.from('left behind'));
        await waitFor(async () => !(await queueExists(queue)), 'the unused queue to be deleted');
  });

  it('keeps a queue with a consumer alive, and deletes it after the consumer leaves', async () => {
    const { ch } = await clients.open();
    const consumer = await clients.channel();
    // a lease long against a loaded machine's round trips: at 100 ms the queue expired between
    // its declare and the consume in a clean-clone run at load 35
    const queue = await sharedQueue(ch, 'q-expires-consumed', { expires: 600 });
    const { consumerTag } = await consumer.consume(queue, () => {});
    await sleep(900);
    expect(await queueExists(queue)).toBe(true);
    await consumer.cancel(consumerTag);
    await waitFor(async () => !(await queueExists(queue)), 'the queue to expire once unused');
  });

  it.each([
    ['a redeclaration', 'redeclare'],
    ['basic.get', 'get'],
  ] as const)('renews the lease on %s', async (_what, how) => {
    const { ch } = await clients.open();
    const queue = await sharedQueue(ch, 'q-expires-renewed', { expires: 1000 });
    ch.sendToQueue(queue, Buffer.from('witness'));
    await waitForReady(ch, queue, 1);
    // six renewals 300 ms apart outlast the 1 s lease nearly twice over (a lease long against
    // a loaded machine's round trips, so a late renewal cannot pass for an expiry); a redeclaration
    // would recreate an expired queue, so the witness message shows it is the same queue
    for (let i = 0; i < 6; i++) {
      await sleep(300);
      if (how === 'redeclare') expect((await ch.assertQueue(queue, { durable: false, expires: 1000 })).messageCount).toBe(1);
      else {
        // on an expired queue basic.get would fail with 404
        const got = await ch.get(queue, { noAck: true });
        expect(got === false ? 'empty' : got.content.toString()).toBe(i === 0 ? 'witness' : 'empty');
      }
    }
    expect(await queueExists(queue)).toBe(true);
    await waitFor(async () => !(await queueExists(queue)), 'the queue to expire once left alone');
  });

  it('never cancels the consumer of an x-expires queue: a consumed queue does not expire', async () => {
    const { ch } = await clients.open();
    const queue = await sharedQueue(ch, 'q-expires-no-cancel', { expires: 80 });
    const inbox = await consumeInto(ch, queue, { noAck: true });
    await sleep(200);
    ch.sendToQueue(queue, Buffer.from('still here'));
    await inbox.find('still here');
    expect(inbox.cancelled).toBe(false);
  });
});

describe('invalid expiry arguments', () => {
  // RabbitMQ 3.x: 406 PRECONDITION_FAILED "invalid arg 'x-…' for queue …"
  it.each([
    ['x-message-ttl', -1],
    ['x-message-ttl', 'ten'],
    ['x-message-ttl', 1.5],
    ['x-expires', 0],
    ['x-expires', -10],
    ['x-expires', 'soon'],
  ])('rejects %s = %j with 406', async (arg, value) => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue(uniqueName('q-bad-ttl'), { exclusive: true, arguments: { [arg]: value } }), 406);
  });
});
