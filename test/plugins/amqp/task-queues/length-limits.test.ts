/**
 * Queue length limits as RabbitMQ documents them (https://www.rabbitmq.com/docs/maxlength):
 * `x-max-length` counts ready messages, `x-max-length-bytes` their body bytes; `x-overflow`
 * `drop-head` (the default) drops or dead-letters the oldest with reason `maxlen`,
 * `reject-publish` refuses new messages (basic.nack under confirms, silently dropped
 * without), `reject-publish-dlx` refuses and dead-letters them.
 */
import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { bodies, callback, drain, errorsOf, expectCode, uniqueName } from '../../../helpers/amqp-clients.js';
import { consumeInto, deadLetterTarget, expectDeath, expectDeathHeaders, expectFirstDeath, getOne, useSuiteBroker, waitForReady, xDeathOf } from './support.js';

const { clients } = useSuiteBroker();

/** Publishes each body to `queue` on a confirm channel; resolves with 'ack' or 'nack' per message, in order. */
async function publishEach(ch: ConfirmChannel, queue: string, payloads: string[]): Promise<Array<'ack' | 'nack'>> {
  const outcomes = payloads.map(
    (p) =>
      new Promise<'ack' | 'nack'>((resolve) => {
        ch.sendToQueue(queue, Buffer.from(p), {}, (err) => resolve(err ? 'nack' : 'ack'));
      }),
  );
  return Promise.all(outcomes);
}

describe('x-overflow drop-head', () => {
  it('keeps the newest x-max-length messages and dead-letters the oldest with reason maxlen', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 2, deadLetterExchange: dlx });
    const pub = await clients.confirmChannel(conn);
    const before = Date.now();
    expect(await publishEach(pub, queue, ['1', '2', '3', '4'])).toEqual(['ack', 'ack', 'ack', 'ack']);
    expect(bodies(await drain(ch, queue))).toEqual(['3', '4']);
    await waitForReady(ch, dlq, 2);
    const dead = await drain(ch, dlq);
    expect(bodies(dead)).toEqual(['1', '2']);
    expectDeath(xDeathOf(dead[0]!)[0], { count: 1, reason: 'maxlen', queue, exchange: '', 'routing-keys': [queue] }, { from: before });
    expectFirstDeath(dead[0]!, 'maxlen', queue, '');
    expectDeathHeaders(dead[0]!, {});
  });

  it('is the default overflow behaviour, and drops without a dead-letter exchange', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 1 });
    const pub = await clients.confirmChannel();
    expect(await publishEach(pub, queue, ['old', 'new'])).toEqual(['ack', 'ack']);
    expect(bodies(await drain(ch, queue))).toEqual(['new']);
  });

  it('limits body bytes with x-max-length-bytes, dropping from the head until under the limit', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx, arguments: { 'x-max-length-bytes': 10 } });
    const pub = await clients.confirmChannel();
    // 5 + 5 = 10 bytes fit; 2 more make 12, so the head (5) goes; properties do not count
    await publishEach(pub, queue, ['aaaaa', 'bbbbb']);
    pub.sendToQueue(queue, Buffer.from('cc'), { headers: { big: 'x'.repeat(1000) } });
    await pub.waitForConfirms();
    expect(bodies(await drain(ch, queue))).toEqual(['bbbbb', 'cc']);
    const dead = await getOne(ch, dlq);
    expect(dead.content.toString()).toBe('aaaaa');
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'maxlen', queue, count: 1 });
  });

  it('counts only ready messages: unacknowledged deliveries do not count toward x-max-length', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 1 });
    const consumer = await clients.channel(conn);
    await consumer.prefetch(1);
    const inbox = await consumeInto(consumer, queue);
    const pub = await clients.confirmChannel(conn);
    await publishEach(pub, queue, ['held']);
    await inbox.find('held');
    // 'held' is unacked, so the queue is empty as far as the limit is concerned
    await publishEach(pub, queue, ['ready']);
    await waitForReady(ch, queue, 1);
    consumer.ack(inbox.messages[0]!);
    await inbox.find('ready');
    expect(inbox.bodies).toEqual(['held', 'ready']);
  });
});

describe('x-overflow reject-publish', () => {
  it('nacks the publishes beyond the limit under confirms and keeps the first ones', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 2, overflow: 'reject-publish' });
    const pub = await clients.confirmChannel();
    expect(await publishEach(pub, queue, ['1', '2', '3', '4'])).toEqual(['ack', 'ack', 'nack', 'nack']);
    expect(bodies(await drain(ch, queue))).toEqual(['1', '2']);
    // room again: accepted
    expect(await publishEach(pub, queue, ['5'])).toEqual(['ack']);
  });

  it('nacks through a callback-API confirm channel too', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackConfirmChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) =>
      ch.assertQueue('', { exclusive: true, maxLength: 1, overflow: 'reject-publish' }, cb),
    );
    const send = (body: string) =>
      new Promise<string>((resolve) => ch.sendToQueue(queue, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack')));
    expect(await Promise.all([send('a'), send('b')])).toEqual(['ack', 'nack']);
  });

  it('drops the refused message silently without confirms (the channel stays open)', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 1, overflow: 'reject-publish' });
    for (const b of ['kept', 'dropped-1', 'dropped-2']) ch.sendToQueue(queue, Buffer.from(b));
    await waitForReady(ch, queue, 1);
    // the first one is the one kept: the others found the queue full
    expect(bodies(await drain(ch, queue))).toEqual(['kept']);
    expect(errorsOf(ch)).toEqual([]);
  });

  it('does not dead-letter refused messages, even with a dead-letter exchange', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 1, overflow: 'reject-publish', deadLetterExchange: dlx });
    const pub = await clients.confirmChannel();
    expect(await publishEach(pub, queue, ['in', 'out'])).toEqual(['ack', 'nack']);
    expect((await ch.checkQueue(dlq)).messageCount).toBe(0);
  });

  it('refuses by x-max-length-bytes a message that would take the queue over the limit, and accepts a smaller one', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', {
      exclusive: true,
      overflow: 'reject-publish',
      arguments: { 'x-max-length-bytes': 6 },
    });
    const pub = await clients.confirmChannel();
    // RabbitMQ asks whether the queue would be over the limit with the new message
    // (rabbit_amqqueue_process: ready bytes + message bytes > max): 4 fits, 4 + 4 does not, 4 + 1 does
    expect(await publishEach(pub, queue, ['aaaa', 'bbbb', 'c'])).toEqual(['ack', 'nack', 'ack']);
    expect(bodies(await drain(ch, queue))).toEqual(['aaaa', 'c']);
  });

  it('nacks a message routed to several queues when one of them refuses it, and delivers it to the others', async () => {
    const { ch } = await clients.open();
    const fanout = uniqueName('x-fanout-limit');
    await ch.assertExchange(fanout, 'fanout', { durable: false, autoDelete: true });
    const { queue: full } = await ch.assertQueue('', { exclusive: true, maxLength: 0, overflow: 'reject-publish' });
    const { queue: open } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(full, fanout, '');
    await ch.bindQueue(open, fanout, '');
    const pub = await clients.confirmChannel();
    const outcome = await new Promise<string>((resolve) => pub.publish(fanout, '', Buffer.from('m'), {}, (err) => resolve(err ? 'nack' : 'ack')));
    expect(outcome).toBe('nack');
    expect(bodies(await drain(ch, open))).toEqual(['m']);
    expect((await ch.checkQueue(full)).messageCount).toBe(0);
  });
});

describe('x-overflow reject-publish-dlx', () => {
  it('nacks the refused publishes and dead-letters them with reason maxlen', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, maxLength: 1, overflow: 'reject-publish-dlx', deadLetterExchange: dlx });
    const pub = await clients.confirmChannel();
    const before = Date.now();
    expect(await publishEach(pub, queue, ['in', 'over-1', 'over-2'])).toEqual(['ack', 'nack', 'nack']);
    expect(bodies(await drain(ch, queue))).toEqual(['in']);
    await waitForReady(ch, dlq, 2);
    const dead = await drain(ch, dlq);
    expect(bodies(dead)).toEqual(['over-1', 'over-2']);
    expectDeath(xDeathOf(dead[0]!)[0], { count: 1, reason: 'maxlen', queue, exchange: '', 'routing-keys': [queue] }, { from: before });
    expectDeathHeaders(dead[0]!, {});
  });
});

describe('invalid length-limit arguments', () => {
  // RabbitMQ 3.x: 406 PRECONDITION_FAILED "invalid arg 'x-…' for queue …"
  it.each([
    ['x-max-length', -1],
    ['x-max-length', 'ten'],
    ['x-max-length-bytes', -5],
    ['x-max-length-bytes', 'big'],
    ['x-overflow', 'drop-tail'],
    ['x-overflow', 1],
  ])('rejects %s = %j with 406', async (arg, value) => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue(uniqueName('q-bad-limit'), { exclusive: true, arguments: { [arg]: value } }), 406);
  });

  it('rejects a redeclaration with another x-max-length with 406', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-limit-redeclare');
    await ch.assertQueue(name, { exclusive: true, maxLength: 5 });
    await expectCode(ch.assertQueue(name, { exclusive: true, maxLength: 6 }), 406);
    const again = await clients.channel(conn);
    await again.assertQueue(name, { exclusive: true, maxLength: 5 });
  });
});
