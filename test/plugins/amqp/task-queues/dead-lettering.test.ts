/**
 * Dead-lettering as RabbitMQ documents it (https://www.rabbitmq.com/docs/dlx): the dead-letter
 * exchange and routing key, the reasons `rejected` (basic.reject / basic.nack without requeue,
 * also nack multiple) and `expired` (`maxlen` is in length-limits.test.ts), the `x-death`
 * header field by field with the types amqplib decodes, most recent first, counts incremented
 * on repeated (queue, reason) pairs, the `x-first-death-*` headers, and the cycle rule: a
 * message that comes back to a queue it died in is dropped unless a rejection was involved.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { callback, drain, errorsOf, expectCode, publishConfirmed, sleep, uniqueName, waitFor } from '../../../helpers/amqp-clients.js';
import { consumeInto, deadLetterTarget, expectDeath, expectDeathHeaders, expectFirstDeath, getOne, useSuiteBroker, waitForReady, xDeathOf } from './support.js';

const { clients } = useSuiteBroker();

/** Consumes `count` messages with manual ack from `queue` on `ch`. */
async function deliveries(ch: Channel, queue: string, count: number): Promise<ConsumeMessage[]> {
  const inbox = await consumeInto(ch, queue);
  return inbox.atLeast(count);
}

describe('dead-letter exchange and routing key', () => {
  it('routes a rejected message to the dead-letter exchange with its original routing key', async () => {
    const { ch } = await clients.open();
    const dlx = uniqueName('dlx-direct');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    const { queue: dlq } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(dlq, dlx, queue);
    ch.sendToQueue(queue, Buffer.from('refused'));
    const [m] = await deliveries(ch, queue, 1);
    const before = Date.now();
    ch.reject(m!, false);
    const dead = await getOne(ch, dlq);
    expect(dead.content.toString()).toBe('refused');
    expect(dead.fields).toMatchObject({ exchange: dlx, routingKey: queue, redelivered: false });
    expectDeath(xDeathOf(dead)[0], { count: 1, reason: 'rejected', queue, exchange: '', 'routing-keys': [queue] }, { from: before });
    expectFirstDeath(dead, 'rejected', queue, '');
  });

  it('replaces the routing key with x-dead-letter-routing-key, keeping the original keys (CC included) in x-death', async () => {
    const { ch } = await clients.open();
    const source = uniqueName('x-topic');
    await ch.assertExchange(source, 'topic', { durable: false, autoDelete: true });
    const { dlx, dlq } = await deadLetterTarget(ch, 'direct', 'dead.key');
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx, deadLetterRoutingKey: 'dead.key' });
    await ch.bindQueue(queue, source, 'orders.*');
    ch.publish(source, 'orders.new', Buffer.from('order'), { CC: ['orders.copy'], headers: { trace: 't-1' } });
    const [m] = await deliveries(ch, queue, 1);
    expect(m!.properties.headers?.CC).toEqual(['orders.copy']);
    ch.nack(m!, false, false);
    const dead = await getOne(ch, dlq);
    expect(dead.fields).toMatchObject({ exchange: dlx, routingKey: 'dead.key' });
    expectDeath(xDeathOf(dead)[0], {
      count: 1,
      reason: 'rejected',
      queue,
      exchange: source,
      'routing-keys': ['orders.new', 'orders.copy'],
    });
    expectFirstDeath(dead, 'rejected', queue, source);
    // with a dead-letter routing key the CC header goes (it would route the copy again)
    expectDeathHeaders(dead, { trace: 't-1' });
  });

  it('keeps the CC header and routes by every original key when there is no dead-letter routing key', async () => {
    const { ch } = await clients.open();
    const dlx = uniqueName('dlx-direct-cc');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    const { queue: byKey } = await ch.assertQueue('', { exclusive: true });
    const { queue: byCc } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(byKey, dlx, queue);
    await ch.bindQueue(byCc, dlx, 'cc-key');
    ch.sendToQueue(queue, Buffer.from('copied'), { CC: 'cc-key' });
    const [m] = await deliveries(ch, queue, 1);
    ch.reject(m!, false);
    const [a, b] = [await getOne(ch, byKey), await getOne(ch, byCc)];
    expect(a.properties.headers?.CC).toEqual(['cc-key']);
    expect(xDeathOf(b)[0]!['routing-keys']).toEqual([queue, 'cc-key']);
  });

  it('keeps every other property and header of the message', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    const props = {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: 'corr-1',
      replyTo: 'replies',
      messageId: 'id-1',
      timestamp: 1_700_000_000,
      type: 'job',
      appId: 'tests',
      priority: 3,
      persistent: true,
      headers: { 'x-custom': 'v', n: 42 },
    };
    ch.sendToQueue(queue, Buffer.from('{}'), props);
    const [m] = await deliveries(ch, queue, 1);
    ch.reject(m!, false);
    const dead = await getOne(ch, dlq);
    expect(dead.properties).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: 'corr-1',
      replyTo: 'replies',
      messageId: 'id-1',
      timestamp: 1_700_000_000,
      type: 'job',
      appId: 'tests',
      priority: 3,
      deliveryMode: 2,
    });
    expect(dead.properties.headers).toMatchObject({ 'x-custom': 'v', n: 42 });
  });

  it('drops the message when the dead-letter exchange does not exist', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: uniqueName('missing-dlx') });
    ch.sendToQueue(queue, Buffer.from('lost'));
    const inbox = await consumeInto(ch, queue);
    await inbox.atLeast(1);
    ch.reject(inbox.messages[0]!, false);
    ch.sendToQueue(queue, Buffer.from('marker'));
    await inbox.find('marker');
    // not requeued, and the channel is unaffected
    expect(inbox.bodies).toEqual(['lost', 'marker']);
    expect(errorsOf(ch)).toEqual([]);
  });
});

describe('reason rejected', () => {
  it('dead-letters basic.nack with requeue=false and multiple=true: every message up to the tag, in order', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    for (const b of ['1', '2', '3', '4']) ch.sendToQueue(queue, Buffer.from(b));
    const got = await deliveries(ch, queue, 4);
    ch.nack(got[2]!, true, false); // 1, 2, 3
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 3, 'three dead-lettered messages');
    const dead = await drain(ch, dlq);
    expect(dead.map((d) => d.content.toString())).toEqual(['1', '2', '3']);
    for (const d of dead) expect(xDeathOf(d)[0]).toMatchObject({ reason: 'rejected', queue, count: 1 });
    ch.ack(got[3]!);
  });

  it('dead-letters basic.reject with requeue=false through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const dlx = uniqueName('dlx-cb');
    await callback((cb) => ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: true }, cb));
    const { queue: dlq } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    await callback((cb) => ch.bindQueue(dlq, dlx, '', {}, cb));
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx }, cb));
    ch.sendToQueue(queue, Buffer.from('cb-reject'));
    const msg = await new Promise<ConsumeMessage>((resolve) => ch.consume(queue, (m) => m && resolve(m), {}, () => {}));
    ch.reject(msg, false);
    const dead = await new Promise<ConsumeMessage>((resolve) => ch.consume(dlq, (m) => m && resolve(m), { noAck: true }, () => {}));
    expect(dead.content.toString()).toBe('cb-reject');
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'rejected', queue, count: 1 });
  });

  it('does not dead-letter a message nacked with requeue=true', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('again'));
    const inbox = await consumeInto(ch, queue);
    await inbox.atLeast(1);
    ch.nack(inbox.messages[0]!, false, true);
    await inbox.atLeast(2);
    expect(inbox.messages[1]!.fields.redelivered).toBe(true);
    expect(inbox.messages[1]!.properties.headers?.['x-death']).toBeUndefined();
    ch.ack(inbox.messages[1]!);
    expect((await ch.checkQueue(dlq)).messageCount).toBe(0);
  });

  it('records a per-message expiration of a rejected message as original-expiration and removes it', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: dlx });
    ch.sendToQueue(queue, Buffer.from('with-ttl'), { expiration: '60000' });
    const [m] = await deliveries(ch, queue, 1);
    ch.reject(m!, false);
    const dead = await getOne(ch, dlq);
    expect(dead.properties.expiration).toBeUndefined();
    expectDeath(xDeathOf(dead)[0], {
      count: 1,
      reason: 'rejected',
      queue,
      exchange: '',
      'routing-keys': [queue],
      'original-expiration': '60000',
    });
  });
});

describe('x-death history over several dead-letterings', () => {
  it('keeps one entry per (queue, reason), most recent first, counting repeats (a retry loop through a TTL queue)', async () => {
    const { ch } = await clients.open();
    const work = uniqueName('work');
    const retry = uniqueName('retry');
    // work: rejections go to retry; retry: expired messages go back to work
    await ch.assertQueue(work, { exclusive: true, deadLetterExchange: '', deadLetterRoutingKey: retry });
    await ch.assertQueue(retry, { exclusive: true, messageTtl: 20, deadLetterExchange: '', deadLetterRoutingKey: work });
    const inbox = await consumeInto(ch, work);
    const started = Date.now();
    ch.sendToQueue(work, Buffer.from('task'));
    await inbox.atLeast(1);
    ch.reject(inbox.messages[0]!, false);
    await inbox.atLeast(2);
    ch.reject(inbox.messages[1]!, false);
    await inbox.atLeast(3);
    ch.ack(inbox.messages[2]!);

    const [first, second, third] = inbox.messages;
    expect(first!.properties.headers?.['x-death']).toBeUndefined();

    const deaths2 = xDeathOf(second!);
    expect(deaths2.map((d) => [d.queue, d.reason, d.count])).toEqual([
      [retry, 'expired', 1],
      [work, 'rejected', 1],
    ]);
    expectDeath(deaths2[0], { count: 1, reason: 'expired', queue: retry, exchange: '', 'routing-keys': [retry] }, { from: started });
    expectDeath(deaths2[1], { count: 1, reason: 'rejected', queue: work, exchange: '', 'routing-keys': [work] }, { from: started });
    expectFirstDeath(second!, 'rejected', work, '');
    expectDeathHeaders(second!, {});
    expect(second!.fields).toMatchObject({ exchange: '', routingKey: work, redelivered: false });

    const deaths3 = xDeathOf(third!);
    expect(deaths3.map((d) => [d.queue, d.reason, d.count])).toEqual([
      [retry, 'expired', 2],
      [work, 'rejected', 2],
    ]);
    // the first death is not overwritten by later ones
    expectFirstDeath(third!, 'rejected', work, '');
    expectDeathHeaders(third!, {});
  });

  it('lets a rejection cycle back into the same queue continue, counting each pass', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('self-dlx');
    // dead-letter to the default exchange with the original routing key: back into the same queue
    await ch.assertQueue(queue, { exclusive: true, deadLetterExchange: '' });
    const inbox = await consumeInto(ch, queue);
    ch.sendToQueue(queue, Buffer.from('boomerang'));
    for (let pass = 1; pass <= 3; pass++) {
      await inbox.atLeast(pass);
      ch.nack(inbox.messages[pass - 1]!, false, false);
    }
    await inbox.atLeast(4);
    ch.ack(inbox.messages[3]!);
    expect(inbox.messages.slice(1).map((m) => xDeathOf(m).map((d) => [d.queue, d.reason, d.count]))).toEqual([
      [[queue, 'rejected', 1]],
      [[queue, 'rejected', 2]],
      [[queue, 'rejected', 3]],
    ]);
  });

  it('drops a message whose expiry would route it back into the queue it expired from', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('self-expire');
    await ch.assertQueue(queue, { exclusive: true, messageTtl: 20, deadLetterExchange: '' });
    await publishConfirmed(await clients.confirmChannel(), '', queue, ['loop']);
    await waitForReady(ch, queue, 0);
    await sleep(100); // had it come back it would be ready again (and expire again) by now
    expect(await drain(ch, queue)).toEqual([]);
  });

  it('drops an automatic cycle through two queues (expiry into expiry) when it reaches the first queue again', async () => {
    const { ch } = await clients.open();
    const a = uniqueName('cycle-a');
    const b = uniqueName('cycle-b');
    const tapX = uniqueName('cycle-tap');
    // a's dead letters fan out to b and to a tap queue that counts the passes through a
    await ch.assertExchange(tapX, 'fanout', { durable: false, autoDelete: true });
    await ch.assertQueue(a, { exclusive: true, messageTtl: 20, deadLetterExchange: tapX });
    await ch.assertQueue(b, { exclusive: true, messageTtl: 20, deadLetterExchange: '', deadLetterRoutingKey: a });
    const { queue: tap } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(b, tapX, '');
    await ch.bindQueue(tap, tapX, '');
    ch.sendToQueue(a, Buffer.from('round'));
    await waitForReady(ch, tap, 1);
    await waitForReady(ch, b, 0); // expired out of b; the way back into a is a cycle
    await sleep(100);
    expect((await ch.checkQueue(a)).messageCount).toBe(0);
    const seen = await drain(ch, tap);
    expect(seen).toHaveLength(1);
    expect(xDeathOf(seen[0]!).map((d) => [d.queue, d.reason])).toEqual([[a, 'expired']]);
  });

  it('routes a message that died in one queue into another queue that dead-letters it again', async () => {
    const { ch } = await clients.open();
    const first = uniqueName('chain-1');
    const second = uniqueName('chain-2');
    const { dlx, dlq } = await deadLetterTarget(ch);
    await ch.assertQueue(first, { exclusive: true, messageTtl: 10, deadLetterExchange: '', deadLetterRoutingKey: second });
    await ch.assertQueue(second, { exclusive: true, deadLetterExchange: dlx });
    ch.sendToQueue(first, Buffer.from('twice'));
    const inbox = await consumeInto(ch, second);
    await inbox.atLeast(1);
    ch.reject(inbox.messages[0]!, false);
    const dead = await getOne(ch, dlq);
    expect(xDeathOf(dead)).toHaveLength(2);
    expectDeath(xDeathOf(dead)[0], { count: 1, reason: 'rejected', queue: second, exchange: '', 'routing-keys': [second] });
    expectDeath(xDeathOf(dead)[1], { count: 1, reason: 'expired', queue: first, exchange: '', 'routing-keys': [first] });
    expectFirstDeath(dead, 'expired', first, '');
  });
});

describe('invalid dead-letter arguments', () => {
  // RabbitMQ 3.10: 406 "invalid arg 'x-dead-letter-routing-key' …: routing_key_but_no_dlx_defined"
  it('rejects x-dead-letter-routing-key without x-dead-letter-exchange with 406', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue('', { exclusive: true, deadLetterRoutingKey: 'k' }), 406);
  });

  // RabbitMQ 3.10: 406 "invalid type 'byte' for arg 'x-dead-letter-exchange' …"
  it('rejects an x-dead-letter-exchange that is not a string with 406', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue('', { exclusive: true, arguments: { 'x-dead-letter-exchange': 5 } }), 406);
  });

  it('accepts a dead-letter exchange that does not exist yet', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, deadLetterExchange: uniqueName('later-dlx') });
    expect(queue).toMatch(/^amq\.gen-/);
  });
});

