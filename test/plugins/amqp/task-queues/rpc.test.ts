/**
 * RPC over AMQP as RabbitMQ documents it: `reply-to` and `correlation-id` carried untouched;
 * direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to: consume the pseudo-queue
 * `amq.rabbitmq.reply-to` in no-ack mode, publish requests with it as reply-to, the server
 * sees a rewritten `amq.rabbitmq.reply-to.…` address, replies published to it arrive on the
 * requesting channel) and its misuse errors; server-named exclusive reply queues.
 *
 * Warren-only, skipped for an external broker: `x-reply-on-failure` (request header or
 * queue argument) — a request that is unroutable, expires or is dead-lettered gets an empty
 * reply with `x-failure` naming the reason and the request's correlation id.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { errorsOf, expectCode, firstError, sleep, uniqueName, waitFor } from '../../../helpers/amqp-clients.js';
import { isExternalBroker } from '../../../helpers/broker.js';
import { consumeInto, Inbox, useSuiteBroker, type ReturnedMessage } from './support.js';

const suite = useSuiteBroker();
const { clients } = suite;

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** An RPC server on its own connection: answers each request with `reply(body)`, recording the requests it saw. */
async function rpcServer(queue: string, reply: (body: string) => string = (b) => b.toUpperCase()): Promise<ConsumeMessage[]> {
  const ch = await clients.channel();
  const seen: ConsumeMessage[] = [];
  await ch.consume(
    queue,
    (req) => {
      if (!req) return;
      seen.push(req);
      ch.publish('', req.properties.replyTo as string, Buffer.from(reply(req.content.toString())), {
        correlationId: req.properties.correlationId,
      });
      ch.ack(req);
    },
    { noAck: false },
  );
  return seen;
}

/** A request queue that servers on other connections can consume (deleted after the test). */
function requestQueue(ch: Channel): Promise<string> {
  return suite.sharedQueue(ch, 'rpc-requests');
}

describe('reply-to and correlation-id', () => {
  it('carries both untouched from the requester to the server', async () => {
    const { conn, ch } = await clients.open();
    const queue = await requestQueue(ch);
    const consumer = await consumeInto(await clients.channel(conn), queue, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('req'), { replyTo: 'my.replies.queue-7', correlationId: 'c0rr-ÿ-42', messageId: 'm' });
    const [req] = await consumer.atLeast(1);
    expect(req!.properties).toMatchObject({ replyTo: 'my.replies.queue-7', correlationId: 'c0rr-ÿ-42', messageId: 'm' });
  });

  it('works with a server-named exclusive auto-delete reply queue', async () => {
    const { conn, ch } = await clients.open();
    const queue = await requestQueue(ch);
    const seen = await rpcServer(queue);
    const { queue: replyQueue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    expect(replyQueue).toMatch(/^amq\.gen-/);
    const replies = await consumeInto(await clients.channel(conn), replyQueue, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('ping'), { replyTo: replyQueue, correlationId: 'c-1' });
    const [reply] = await replies.atLeast(1);
    expect(reply!.content.toString()).toBe('PING');
    expect(reply!.properties.correlationId).toBe('c-1');
    expect(reply!.fields).toMatchObject({ exchange: '', routingKey: replyQueue });
    expect(seen[0]!.properties.replyTo).toBe(replyQueue);
  });
});

describe('direct reply-to', () => {
  it('rewrites the reply-to address and delivers the reply to the requesting channel, without a queue', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const seen = await rpcServer(queue);
    const replies = await consumeInto(ch, DIRECT_REPLY_TO, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('hello'), { replyTo: DIRECT_REPLY_TO, correlationId: 'c-42' });
    const [reply] = await replies.atLeast(1);
    expect(reply!.content.toString()).toBe('HELLO');
    expect(reply!.properties.correlationId).toBe('c-42');
    const address = seen[0]!.properties.replyTo as string;
    expect(address).toMatch(/^amq\.rabbitmq\.reply-to\.\S+$/);
    expect(reply!.fields).toMatchObject({ consumerTag: replies.consumerTag, exchange: '', routingKey: address, redelivered: false });
  });

  it('matches many requests in flight by correlation id', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    await rpcServer(queue, (b) => `re:${b}`);
    const replies = await consumeInto(ch, DIRECT_REPLY_TO, { noAck: true });
    for (let i = 0; i < 20; i++) ch.sendToQueue(queue, Buffer.from(String(i)), { replyTo: DIRECT_REPLY_TO, correlationId: `id-${i}` });
    await replies.atLeast(20);
    for (const r of replies.messages) {
      expect(r.content.toString()).toBe(`re:${(r.properties.correlationId as string).slice(3)}`);
    }
    expect(new Set(replies.messages.map((r) => r.properties.correlationId)).size).toBe(20);
  });

  it('gives each channel its own address: a reply reaches only the channel that sent the request', async () => {
    const { conn, ch } = await clients.open();
    const queue = await requestQueue(ch);
    const seen = await rpcServer(queue);
    const other = await clients.channel(conn);
    const mine = await consumeInto(ch, DIRECT_REPLY_TO, { noAck: true });
    const theirs = await consumeInto(other, DIRECT_REPLY_TO, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('a'), { replyTo: DIRECT_REPLY_TO, correlationId: 'from-ch' });
    other.sendToQueue(queue, Buffer.from('b'), { replyTo: DIRECT_REPLY_TO, correlationId: 'from-other' });
    await mine.atLeast(1);
    await theirs.atLeast(1);
    expect(mine.messages.map((m) => m.properties.correlationId)).toEqual(['from-ch']);
    expect(theirs.messages.map((m) => m.properties.correlationId)).toEqual(['from-other']);
    expect(seen[0]!.properties.replyTo).not.toBe(seen[1]!.properties.replyTo);
  });

  it('works through the callback API', async () => {
    const { ch: serverSetup } = await clients.open();
    const queue = uniqueName('rpc-cb');
    await serverSetup.assertQueue(queue, { exclusive: false, durable: false, autoDelete: true });
    await rpcServer(queue);
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const reply = new Promise<ConsumeMessage>((resolve) => {
      ch.consume(DIRECT_REPLY_TO, (m) => m && resolve(m), { noAck: true }, (err) => {
        if (!err) ch.sendToQueue(queue, Buffer.from('cb'), { replyTo: DIRECT_REPLY_TO, correlationId: 'cb-1' });
      });
    });
    const r = await reply;
    expect([r.content.toString(), r.properties.correlationId]).toEqual(['CB', 'cb-1']);
  });

  it('answers a passive declare of the pseudo-queue with one consumer, as RabbitMQ does', async () => {
    const { ch } = await clients.open();
    // RabbitMQ's rabbit_channel answers 0 messages, 1 consumer, whoever asks
    expect(await ch.checkQueue(DIRECT_REPLY_TO)).toStrictEqual({ queue: DIRECT_REPLY_TO, messageCount: 0, consumerCount: 1 });
  });

  it('lets a server check with a passive declare whether a reply address is still live', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const requester = await clients.channel();
    await requester.consume(DIRECT_REPLY_TO, () => {}, { noAck: true });
    requester.sendToQueue(queue, Buffer.from('req'), { replyTo: DIRECT_REPLY_TO });
    const server = await clients.channel();
    const inbox = await consumeInto(server, queue, { noAck: true });
    const [req] = await inbox.atLeast(1);
    const address = req!.properties.replyTo as string;
    expect(await server.checkQueue(address)).toStrictEqual({ queue: address, messageCount: 0, consumerCount: 1 });
    await requester.close();
    await expectCode(server.checkQueue(address), 404);
  });

  it('drops a reply to an address whose channel has gone (returned when mandatory), leaving the replier’s channel open', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const requester = await clients.channel();
    await requester.consume(DIRECT_REPLY_TO, () => {}, { noAck: true });
    requester.sendToQueue(queue, Buffer.from('late'), { replyTo: DIRECT_REPLY_TO });
    const server = await clients.confirmChannel();
    const inbox = await consumeInto(server, queue, { noAck: true });
    const [req] = await inbox.atLeast(1);
    const address = req!.properties.replyTo as string;
    await requester.close();
    const returned: ReturnedMessage[] = [];
    server.on('return', (m: ReturnedMessage) => returned.push(m));
    server.publish('', address, Buffer.from('too late'));
    server.publish('', address, Buffer.from('too late, mandatory'), { mandatory: true });
    await server.waitForConfirms(); // both confirmed (acked): a return is not a nack
    expect(returned.map((m) => [m.content.toString(), m.fields.replyCode, m.fields.replyText, m.fields.routingKey])).toEqual([
      ['too late, mandatory', 312, 'NO_ROUTE', address],
    ]);
    expect(errorsOf(server)).toEqual([]);
  });

  describe('misuse', () => {
    it('closes the channel with 406 for a request with reply-to amq.rabbitmq.reply-to and no reply consumer', async () => {
      const { ch } = await clients.open();
      const queue = await requestQueue(ch);
      const pub = await clients.channel();
      pub.sendToQueue(queue, Buffer.from('x'), { replyTo: DIRECT_REPLY_TO });
      const err = await firstError(pub);
      expect(err.code).toBe(406);
      expect(err.message).toContain('fast reply consumer does not exist');
    });

    it('closes the channel with 406 for a reply consumer in ack mode', async () => {
      const ch = await clients.channel();
      const err = await expectCode(ch.consume(DIRECT_REPLY_TO, () => {}, { noAck: false }), 406);
      expect(err.message).toContain('reply consumer cannot acknowledge');
    });

    it('closes the channel with 406 for a second reply consumer on the same channel', async () => {
      const ch = await clients.channel();
      await ch.consume(DIRECT_REPLY_TO, () => {}, { noAck: true });
      const err = await expectCode(ch.consume(DIRECT_REPLY_TO, () => {}, { noAck: true }), 406);
      expect(err.message).toContain('reply consumer already set');
    });

    it('refuses requests again once the reply consumer is cancelled', async () => {
      const { ch: setup } = await clients.open();
      const queue = await requestQueue(setup);
      const ch = await clients.channel();
      const { consumerTag } = await ch.consume(DIRECT_REPLY_TO, () => {}, { noAck: true });
      await ch.cancel(consumerTag);
      ch.sendToQueue(queue, Buffer.from('x'), { replyTo: DIRECT_REPLY_TO });
      expect((await firstError(ch)).code).toBe(406);
    });
  });
});

describe.skipIf(isExternalBroker)('x-reply-on-failure (Warren-only)', () => {
  /** A requester on direct reply-to; returns its inbox. */
  async function requester(ch: Channel): Promise<Inbox> {
    return consumeInto(ch, DIRECT_REPLY_TO, { noAck: true });
  }

  function expectFailureReply(m: ConsumeMessage, reason: string, correlationId: string, queue?: string): void {
    expect(m.content.length).toBe(0);
    expect(m.properties.correlationId).toBe(correlationId);
    expect(m.properties.headers?.['x-failure']).toBe(reason);
    if (queue !== undefined) expect(m.properties.headers?.['x-failure-queue']).toBe(queue);
  }

  it('answers an unroutable request with x-failure unroutable', async () => {
    const { ch } = await clients.open();
    const replies = await requester(ch);
    ch.sendToQueue(uniqueName('no-such-service'), Buffer.from('req'), {
      replyTo: DIRECT_REPLY_TO,
      correlationId: 'u-1',
      headers: { 'x-reply-on-failure': true },
    });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'unroutable', 'u-1');
  });

  it('answers a request that expires unanswered with x-failure expired, naming the queue', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const replies = await requester(ch);
    ch.sendToQueue(queue, Buffer.from('req'), {
      replyTo: DIRECT_REPLY_TO,
      correlationId: 'e-1',
      expiration: '30',
      headers: { 'x-reply-on-failure': true },
    });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'expired', 'e-1', queue);
  });

  it('answers a request the server rejects with x-failure rejected, also at a named reply queue', async () => {
    const { conn, ch } = await clients.open();
    const queue = await requestQueue(ch);
    const { queue: replyQueue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const replies = await consumeInto(ch, replyQueue, { noAck: true });
    const server = await clients.channel(conn);
    await server.consume(queue, (m) => m && server.reject(m, false));
    ch.sendToQueue(queue, Buffer.from('req'), { replyTo: replyQueue, correlationId: 'r-1', headers: { 'x-reply-on-failure': true } });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'rejected', 'r-1', queue);
  });

  it('answers a request dropped by a full queue with x-failure maxlen', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('rpc-full');
    await ch.assertQueue(queue, { exclusive: true, maxLength: 1 });
    const replies = await requester(ch);
    const opts = { replyTo: DIRECT_REPLY_TO, headers: { 'x-reply-on-failure': true } };
    ch.sendToQueue(queue, Buffer.from('first'), { ...opts, correlationId: 'm-1' });
    ch.sendToQueue(queue, Buffer.from('second'), { ...opts, correlationId: 'm-2' });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'maxlen', 'm-1', queue);
  });

  it('answers every request of a queue declared with x-reply-on-failure, without the request header', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('rpc-opt-in-queue');
    await ch.assertQueue(queue, { exclusive: true, messageTtl: 20, arguments: { 'x-reply-on-failure': true } });
    const replies = await requester(ch);
    ch.sendToQueue(queue, Buffer.from('req'), { replyTo: DIRECT_REPLY_TO, correlationId: 'q-1' });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'expired', 'q-1', queue);
  });

  it('answers a request dead-lettered for its delivery limit with x-failure delivery_limit', async () => {
    const { conn, ch } = await clients.open();
    const queue = uniqueName('rpc-poison');
    await ch.assertQueue(queue, { exclusive: true, arguments: { 'x-delivery-limit': 0 } });
    const replies = await requester(ch);
    const server = await clients.channel(conn);
    await server.consume(queue, (m) => m && server.nack(m, false, true));
    ch.sendToQueue(queue, Buffer.from('req'), { replyTo: DIRECT_REPLY_TO, correlationId: 'd-1', headers: { 'x-reply-on-failure': true } });
    const [r] = await replies.atLeast(1);
    expectFailureReply(r!, 'delivery_limit', 'd-1', queue);
  });

  it('sends nothing without the opt-in', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const replies = await requester(ch);
    ch.sendToQueue(queue, Buffer.from('req'), { replyTo: DIRECT_REPLY_TO, correlationId: 'n-1', expiration: '10' });
    ch.sendToQueue(uniqueName('nowhere'), Buffer.from('req'), { replyTo: DIRECT_REPLY_TO, correlationId: 'n-2' });
    await waitFor(async () => (await ch.checkQueue(queue)).messageCount === 0, 'the request to expire');
    await sleep(50);
    expect(replies.messages).toEqual([]);
  });

  it('sends nothing for a request without a reply address', async () => {
    const { ch } = await clients.open();
    const queue = await requestQueue(ch);
    const replies = await requester(ch);
    ch.sendToQueue(queue, Buffer.from('fire-and-forget'), { expiration: '10', headers: { 'x-reply-on-failure': true } });
    await waitFor(async () => (await ch.checkQueue(queue)).messageCount === 0, 'the message to expire');
    await sleep(50);
    expect(replies.messages).toEqual([]);
  });
});
