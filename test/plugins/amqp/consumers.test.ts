/**
 * basic.consume / cancel / get / qos (AMQP 0-9-1 §1.8 class basic) as RabbitMQ implements
 * them: consumer tags, exclusive consumers, prefetch per consumer and per channel
 * (RabbitMQ's reading of `global`), and round-robin between consumers.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bodies,
  callback,
  consumeCount,
  drain,
  expectCode,
  firstError,
  publishConfirmed,
  sleep,
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

/** A queue holding `count` messages '0'…'count-1', declared on `ch` (exclusive to its connection). */
async function queueWith(ch: Channel, count: number): Promise<string> {
  const { queue } = await ch.assertQueue('', { exclusive: true });
  for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
  // Publishes are handled in order before a later synchronous method on the same channel.
  await waitFor(async () => (await ch.checkQueue(queue)).messageCount === count, `${count} messages in ${queue}`);
  return queue;
}

/** Time for a broker to send deliveries it should not send; long enough to catch them on loopback. */
const SETTLE_MS = 150;

describe('basic.consume', () => {
  it('delivers without acknowledgement (no-ack) with increasing delivery tags', async () => {
    const { ch } = await clients.open();
    const queue = await queueWith(ch, 3);
    const { messages, consumerTag } = await consumeCount(ch, queue, 3, { noAck: true });
    expect(bodies(messages)).toEqual(['0', '1', '2']);
    expect(messages.map((m) => m.fields.deliveryTag)).toEqual([1, 2, 3]);
    for (const m of messages) {
      expect(m.fields).toMatchObject({ consumerTag, redelivered: false, exchange: '', routingKey: queue });
    }
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });

  it('delivers with manual acknowledgement and removes acknowledged messages', async () => {
    const { conn, ch } = await clients.open();
    const queue = await queueWith(ch, 2);
    const consumer = await clients.channel(conn);
    const { messages } = await consumeCount(consumer, queue, 2);
    for (const m of messages) consumer.ack(m);
    await consumer.close();
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });

  it('consumes through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    const got = new Promise<ConsumeMessage>((resolve) => {
      ch.consume(queue, (m) => m && resolve(m), { noAck: true }, () => {});
    });
    ch.sendToQueue(queue, Buffer.from('hello'));
    expect((await got).content.toString()).toBe('hello');
  });

  it('generates amq.ctag-… consumer tags and echoes client-chosen ones', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const generated = await ch.consume(queue, () => {});
    expect(generated.consumerTag).toMatch(/^amq\.ctag-.+/);
    const mine = uniqueName('ctag');
    expect(await ch.consume(queue, () => {}, { consumerTag: mine })).toEqual({ consumerTag: mine });
    ch.sendToQueue(queue, Buffer.from('x'));
  });

  it('closes the connection with 530 NOT_ALLOWED on a duplicate consumer tag on one channel', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const tag = uniqueName('dup');
    await ch.consume(queue, () => {}, { consumerTag: tag });
    await expect(ch.consume(queue, () => {}, { consumerTag: tag })).rejects.toThrow();
    expect((await firstError(conn)).code).toBe(530);
  });

  it('allows the same consumer tag on two channels', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const tag = uniqueName('shared-tag');
    await ch.consume(queue, () => {}, { consumerTag: tag });
    const other = await clients.channel(conn);
    await other.consume(queue, () => {}, { consumerTag: tag });
  });

  it('answers a consume on a missing queue with 404', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.consume(uniqueName('missing'), () => {}), 404);
  });
});

describe('exclusive consumers', () => {
  it('refuses a second consumer on a queue with an exclusive consumer with 403 ACCESS_REFUSED', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.consume(queue, () => {}, { exclusive: true });
    const other = await clients.channel(conn);
    await expectCode(other.consume(queue, () => {}), 403);
  });

  it('refuses an exclusive consumer on a queue that already has a consumer with 403', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.consume(queue, () => {});
    const other = await clients.channel(conn);
    await expectCode(other.consume(queue, () => {}, { exclusive: true }), 403);
  });

  it('accepts a new consumer once the exclusive one is cancelled', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const { consumerTag } = await ch.consume(queue, () => {}, { exclusive: true });
    await ch.cancel(consumerTag);
    const other = await clients.channel(conn);
    await other.consume(queue, () => {});
  });
});

describe('basic.cancel', () => {
  it('stops deliveries to a cancelled consumer and leaves new messages in the queue', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const got: string[] = [];
    const { consumerTag } = await ch.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });
    ch.sendToQueue(queue, Buffer.from('before'));
    await waitFor(() => got.length === 1, 'the first delivery');
    expect(await ch.cancel(consumerTag)).toEqual({ consumerTag });
    ch.sendToQueue(queue, Buffer.from('after'));
    await sleep(SETTLE_MS);
    expect(got).toEqual(['before']);
    expect(bodies(await drain(ch, queue))).toEqual(['after']);
  });

  it('keeps messages delivered before the cancel acknowledgeable', async () => {
    const { conn, ch } = await clients.open();
    const queue = await queueWith(ch, 2);
    const consumer = await clients.channel(conn);
    const { messages, consumerTag } = await consumeCount(consumer, queue, 2);
    await consumer.cancel(consumerTag);
    for (const m of messages) consumer.ack(m);
    await consumer.close();
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });

  it('answers a cancel of an unknown consumer tag with cancel-ok', async () => {
    const { ch } = await clients.open();
    const tag = uniqueName('never-used');
    expect(await ch.cancel(tag)).toEqual({ consumerTag: tag });
    await ch.checkExchange('amq.direct');
  });
});

describe('basic.get', () => {
  it('gets messages one at a time with the count of those left, then get-empty', async () => {
    const { ch } = await clients.open();
    const queue = await queueWith(ch, 3);
    const first = await ch.get(queue, { noAck: true });
    expect(first && first.fields).toMatchObject({ messageCount: 2, redelivered: false, exchange: '', routingKey: queue });
    expect(first && first.content.toString()).toBe('0');
    const second = await ch.get(queue, { noAck: true });
    expect(second && second.fields.messageCount).toBe(1);
    const third = await ch.get(queue, { noAck: true });
    expect(third && third.fields.messageCount).toBe(0);
    expect(await ch.get(queue, { noAck: true })).toBe(false);
  });

  it('gets with manual acknowledgement, sharing delivery tags with consumers', async () => {
    const { conn, ch } = await clients.open();
    const queue = await queueWith(ch, 3);
    const got = await ch.get(queue);
    expect(got && got.fields.deliveryTag).toBe(1);
    const { messages } = await consumeCount(ch, queue, 2);
    expect(messages.map((m) => m.fields.deliveryTag)).toEqual([2, 3]);
    ch.ack(messages[1]!, true); // tag 3, multiple: settles the get as well
    await ch.close();
    expect((await (await clients.channel(conn)).checkQueue(queue)).messageCount).toBe(0);
  });

  it('gets through the callback API, and get-empty yields false', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    expect(await callback((cb) => ch.get(queue, { noAck: true }, cb))).toBe(false);
    ch.sendToQueue(queue, Buffer.from('one'));
    const m = await callback<false | { content: Buffer }>((cb) => ch.get(queue, { noAck: true }, cb));
    expect(m && m.content.toString()).toBe('one');
  });

  it('answers a get on a missing queue with 404', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.get(uniqueName('missing')), 404);
  });
});

describe('prefetch (basic.qos)', () => {
  it('keeps exactly prefetch-count messages unacknowledged at once per consumer', async () => {
    const { conn, ch } = await clients.open();
    const queue = await queueWith(ch, 10);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(3);
    const got: ConsumeMessage[] = [];
    await consumer.consume(queue, (m) => m && got.push(m));
    await waitFor(() => got.length === 3, 'three deliveries');
    await sleep(SETTLE_MS);
    expect(got).toHaveLength(3);

    consumer.ack(got[0]!);
    await waitFor(() => got.length === 4, 'a fourth delivery after one ack');
    await sleep(SETTLE_MS);
    expect(got).toHaveLength(4);

    consumer.ack(got[3]!, true); // acks 2, 3 and 4: three more may come
    await waitFor(() => got.length === 7, 'three more deliveries after a multiple ack');
    await sleep(SETTLE_MS);
    expect(got).toHaveLength(7);
    expect(bodies(got)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('applies a non-global prefetch to each consumer of the channel separately', async () => {
    const { conn, ch } = await clients.open();
    const q1 = await queueWith(ch, 5);
    const q2 = await queueWith(ch, 5);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(2);
    const got: Record<string, number> = { [q1]: 0, [q2]: 0 };
    await consumer.consume(q1, () => got[q1]!++);
    await consumer.consume(q2, () => got[q2]!++);
    await waitFor(() => got[q1] === 2 && got[q2] === 2, 'two deliveries to each consumer');
    await sleep(SETTLE_MS);
    expect(got).toEqual({ [q1]: 2, [q2]: 2 });
  });

  it('shares a global prefetch among all consumers of the channel (RabbitMQ semantics)', async () => {
    const { conn, ch } = await clients.open();
    const q1 = await queueWith(ch, 5);
    const q2 = await queueWith(ch, 5);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(3, true);
    const got: ConsumeMessage[] = [];
    await consumer.consume(q1, (m) => m && got.push(m));
    await consumer.consume(q2, (m) => m && got.push(m));
    await waitFor(() => got.length === 3, 'three deliveries across both consumers');
    await sleep(SETTLE_MS);
    expect(got).toHaveLength(3);
    consumer.ack(got[0]!);
    await waitFor(() => got.length === 4, 'one more delivery after an ack');
    await sleep(SETTLE_MS);
    expect(got).toHaveLength(4);
  });

  it('applies both a per-consumer and a global limit when both are set', async () => {
    const { conn, ch } = await clients.open();
    const q1 = await queueWith(ch, 5);
    const q2 = await queueWith(ch, 5);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(3, true);
    await consumer.prefetch(1, false);
    const got: Record<string, number> = { [q1]: 0, [q2]: 0 };
    await consumer.consume(q1, () => got[q1]!++);
    await consumer.consume(q2, () => got[q2]!++);
    await waitFor(() => got[q1] === 1 && got[q2] === 1, 'one delivery to each consumer');
    await sleep(SETTLE_MS);
    expect(got).toEqual({ [q1]: 1, [q2]: 1 });
  });

  it('does not limit deliveries with prefetch 0', async () => {
    const { conn, ch } = await clients.open();
    const queue = await queueWith(ch, 20);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(0);
    const { messages } = await consumeCount(consumer, queue, 20);
    expect(messages).toHaveLength(20);
  });
});

describe('several consumers on one queue', () => {
  it('round-robins deliveries between two consumers', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const seen: Array<[string, string]> = [];
    const a = await clients.channel(conn);
    const b = await clients.channel(conn);
    await a.consume(queue, (m) => m && seen.push(['a', m.content.toString()]), { noAck: true });
    await b.consume(queue, (m) => m && seen.push(['b', m.content.toString()]), { noAck: true });
    const pub = await clients.confirmChannel(conn);
    await publishConfirmed(pub, '', queue, Array.from({ length: 10 }, (_, i) => String(i)));
    await waitFor(() => seen.length === 10, 'ten deliveries');
    const toA = seen.filter(([c]) => c === 'a').map(([, body]) => body);
    const toB = seen.filter(([c]) => c === 'b').map(([, body]) => body);
    expect(toA).toHaveLength(5);
    expect(toB).toHaveLength(5);
    // Strict alternation: consecutive messages go to different consumers.
    const owner = new Map(seen.map(([c, body]) => [body, c]));
    for (let i = 1; i < 10; i++) expect(owner.get(String(i))).not.toBe(owner.get(String(i - 1)));
  });
});
