/**
 * Acknowledgements (AMQP 0-9-1 §1.8.3.13–14, basic.ack / reject / recover, and RabbitMQ's
 * basic.nack): settling single and multiple deliveries, requeueing with the redelivered
 * flag, 406 for unknown or repeated delivery tags, and the guarantee that messages left
 * unacknowledged when a channel or connection closes come back exactly once, flagged.
 */
import type { Channel, ChannelModel, ConsumeMessage, GetMessage, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bodies,
  callback,
  consumeCount,
  drain,
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

const SETTLE_MS = 150;
const labels = (n: number) => Array.from({ length: n }, (_, i) => String(i));

/** A queue (exclusive to `conn`) holding messages '0'…'n-1', confirmed. */
async function queueWith(conn: ChannelModel, n: number): Promise<string> {
  const ch = await clients.channel(conn);
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await publishConfirmed(await clients.confirmChannel(conn), '', queue, labels(n));
  return queue;
}

async function getOne(ch: Channel, queue: string): Promise<GetMessage> {
  const m = await ch.get(queue);
  if (m === false) throw new Error(`queue ${queue} unexpectedly empty`);
  return m;
}

/** What a later reader finds: [body, redelivered] for every message left in the queue. */
async function remaining(conn: ChannelModel, queue: string): Promise<Array<[string, boolean]>> {
  const ch = await clients.channel(conn);
  return (await drain(ch, queue)).map((m) => [m.content.toString(), m.fields.redelivered]);
}

/** A delivery with a tag the broker never issued, to provoke the 406. */
const fakeDelivery = (deliveryTag: number) => ({ fields: { deliveryTag } }) as unknown as Message;

describe('basic.ack', () => {
  it('removes an acknowledged message; the unacknowledged one returns when the channel closes', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 2);
    const ch = await clients.channel(conn);
    const first = await getOne(ch, queue);
    await getOne(ch, queue);
    ch.ack(first);
    await ch.close();
    expect(await remaining(conn, queue)).toEqual([['1', true]]);
  });

  it('acknowledges every delivery up to a tag with multiple', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 5);
    const ch = await clients.channel(conn);
    const { messages } = await consumeCount(ch, queue, 5);
    ch.ack(messages[3]!, true);
    await ch.close();
    expect(await remaining(conn, queue)).toEqual([['4', true]]);
  });

  it('acknowledges everything outstanding with tag 0 and multiple (ackAll)', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 4);
    const ch = await clients.channel(conn);
    await consumeCount(ch, queue, 4);
    ch.ackAll();
    await ch.close();
    expect(await remaining(conn, queue)).toEqual([]);
  });

  it('acknowledges through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    ch.sendToQueue(queue, Buffer.from('a'));
    ch.sendToQueue(queue, Buffer.from('b'));
    const a = await callback<GetMessage | false>((cb) => ch.get(queue, {}, cb));
    const b = await callback<GetMessage | false>((cb) => ch.get(queue, {}, cb));
    if (!a || !b) throw new Error('expected two messages');
    ch.ack(a);
    ch.nack(b, false, true);
    const again = await callback<GetMessage | false>((cb) => ch.get(queue, { noAck: true }, cb));
    expect(again && [again.content.toString(), again.fields.redelivered]).toEqual(['b', true]);
    const ok = await callback<{ messageCount: number }>((cb) => ch.checkQueue(queue, cb));
    expect(ok.messageCount).toBe(0);
  });
});

describe('basic.nack and basic.reject', () => {
  it('requeues a nacked message to its place, flagged redelivered', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 3);
    const ch = await clients.channel(conn);
    const m0 = await getOne(ch, queue);
    expect(m0.fields.redelivered).toBe(false);
    ch.nack(m0, false, true);
    const again = await getOne(ch, queue);
    expect([again.content.toString(), again.fields.redelivered]).toEqual(['0', true]);
    expect(again.fields.deliveryTag).not.toBe(m0.fields.deliveryTag);
    ch.ack(again);
  });

  it('drops a message nacked without requeue', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 2);
    const ch = await clients.channel(conn);
    ch.nack(await getOne(ch, queue), false, false);
    expect(await remaining(conn, queue)).toEqual([['1', false]]);
  });

  it('nacks every delivery up to a tag with multiple, requeueing them in order', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 4);
    const ch = await clients.channel(conn);
    const got = [await getOne(ch, queue), await getOne(ch, queue), await getOne(ch, queue)];
    ch.nack(got[2]!, true, true);
    const again = await drain(ch, queue);
    expect(again.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
      ['0', true],
      ['1', true],
      ['2', true],
      ['3', false],
    ]);
  });

  it('drops every delivery up to a tag with nack multiple and no requeue', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 4);
    const ch = await clients.channel(conn);
    const got = [await getOne(ch, queue), await getOne(ch, queue), await getOne(ch, queue)];
    ch.nack(got[2]!, true, false);
    await ch.close();
    expect(await remaining(conn, queue)).toEqual([['3', false]]);
  });

  it('requeues a rejected message, or drops it without requeue', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 2);
    const ch = await clients.channel(conn);
    const m0 = await getOne(ch, queue);
    ch.reject(m0, true);
    const again = await getOne(ch, queue);
    expect([again.content.toString(), again.fields.redelivered]).toEqual(['0', true]);
    ch.reject(again, false);
    const m1 = await getOne(ch, queue);
    ch.reject(m1, false);
    expect(await ch.get(queue)).toBe(false);
  });

  it('redelivers a nacked message to a consumer with the redelivered flag', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 1);
    const ch = await clients.channel(conn);
    const seen: Array<[string, boolean]> = [];
    await ch.consume(queue, (m) => {
      if (!m) return;
      seen.push([m.content.toString(), m.fields.redelivered]);
      if (m.fields.redelivered) ch.ack(m);
      else ch.nack(m, false, true);
    });
    await waitFor(() => seen.length === 2, 'the redelivery');
    expect(seen).toEqual([
      ['0', false],
      ['0', true],
    ]);
  });
});

describe('invalid acknowledgements', () => {
  it('closes the channel with 406 PRECONDITION_FAILED "unknown delivery tag" for a tag never issued', async () => {
    const { conn, ch } = await clients.open();
    ch.ack(fakeDelivery(99));
    const err = await firstError(ch);
    expect(err.code).toBe(406);
    expect(err.message).toMatch(/unknown delivery tag/);
    // The connection stays usable.
    await (await clients.channel(conn)).checkExchange('amq.direct');
  });

  it('closes the channel with 406 on a second ack of the same delivery', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 1);
    const ch = await clients.channel(conn);
    const m = await getOne(ch, queue);
    ch.ack(m);
    ch.ack(m);
    const err = await firstError(ch);
    expect(err.code).toBe(406);
    expect(err.message).toMatch(/unknown delivery tag/);
    expect(await remaining(conn, queue)).toEqual([]);
  });

  it('closes the channel with 406 on an ack of a no-ack delivery', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 1);
    const ch = await clients.channel(conn);
    const m = await ch.get(queue, { noAck: true });
    ch.ack(m as GetMessage);
    expect((await firstError(ch)).code).toBe(406);
  });

  it('closes the channel with 406 on a nack and on a reject of an unknown tag', async () => {
    const { conn, ch } = await clients.open();
    ch.nack(fakeDelivery(7), false, true);
    expect((await firstError(ch)).code).toBe(406);
    const ch2 = await clients.channel(conn);
    ch2.reject(fakeDelivery(7), true);
    expect((await firstError(ch2)).code).toBe(406);
  });
});

describe('basic.recover', () => {
  it('requeues every unacknowledged delivery of the channel, flagged redelivered', async () => {
    const conn = await clients.connect();
    const queue = await queueWith(conn, 3);
    const ch = await clients.channel(conn);
    const first = await getOne(ch, queue);
    await getOne(ch, queue);
    ch.ack(first);
    await ch.recover();
    const again = await drain(ch, queue);
    expect(again.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
      ['1', true],
      ['2', false],
    ]);
  });
});

describe('unacknowledged messages when a channel or connection closes', () => {
  /**
   * Publishes n messages to a queue every connection can read, lets one consumer take
   * `taken` of them (prefetch) and ack `acked`, then ends it with `end`; a fresh
   * connection must then read each of the n - acked others exactly once, the taken
   * ones first and flagged redelivered.
   */
  async function leaveUnacked(end: 'channel' | 'connection', n: number, taken: number, acked: number) {
    const admin = await clients.open();
    const queue = uniqueName(`q-unacked-${end}`);
    await admin.ch.assertQueue(queue, { durable: false });
    await publishConfirmed(await clients.confirmChannel(admin.conn), '', queue, labels(n));

    const conn = await clients.connect();
    const ch = await clients.channel(conn);
    await ch.prefetch(taken);
    const got: ConsumeMessage[] = [];
    const { consumerTag } = await ch.consume(queue, (m) => m && got.push(m));
    await waitFor(() => got.length === taken, `${taken} deliveries`);
    // Cancel first so that the credit freed by the acks brings no further deliveries.
    await ch.cancel(consumerTag);
    for (const m of got.slice(0, acked)) ch.ack(m);
    // A round trip on the same channel: the broker has handled the acks when it answers.
    // (amqplib may otherwise write connection.close, on channel 0, ahead of the acks.)
    await ch.checkQueue(queue);
    if (end === 'channel') await ch.close();
    else await conn.close();

    const reader = await clients.open();
    const { messages } = await consumeCount(reader.ch, queue, n - acked, { noAck: true });
    await sleep(SETTLE_MS);
    const seen = messages.map((m) => [m.content.toString(), m.fields.redelivered]);
    await reader.ch.deleteQueue(queue);
    return seen;
  }

  it.each(['channel', 'connection'] as const)('redelivers them exactly once, flagged, in their original order (%s close)', async (end) => {
    const seen = await leaveUnacked(end, 10, 4, 2);
    expect(seen).toEqual([
      ['2', true],
      ['3', true],
      ['4', false],
      ['5', false],
      ['6', false],
      ['7', false],
      ['8', false],
      ['9', false],
    ]);
  });

  it('loses and duplicates nothing when every third of 200 deliveries is acked before the channel closes', async () => {
    const admin = await clients.open();
    const queue = uniqueName('q-unacked-many');
    await admin.ch.assertQueue(queue, { durable: false });
    const n = 200;
    await publishConfirmed(await clients.confirmChannel(admin.conn), '', queue, labels(n));

    const ch = await clients.channel();
    const { messages } = await consumeCount(ch, queue, n);
    const acked = new Set<string>();
    messages.forEach((m, i) => {
      if (i % 3 === 0) {
        ch.ack(m);
        acked.add(m.content.toString());
      }
    });
    await ch.close();

    const reader = await clients.open();
    const { messages: again } = await consumeCount(reader.ch, queue, n - acked.size, { noAck: true });
    await sleep(SETTLE_MS);
    expect(again).toHaveLength(n - acked.size);
    const expected = labels(n).filter((l) => !acked.has(l));
    expect(bodies(again).sort()).toEqual(expected.sort());
    expect(again.every((m) => m.fields.redelivered)).toBe(true);
    expect(await reader.ch.deleteQueue(queue)).toEqual({ messageCount: 0 });
  });
});
