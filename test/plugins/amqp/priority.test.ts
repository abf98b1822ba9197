/**
 * Priority queues (RabbitMQ's `x-max-priority` extension): argument validation, highest
 * priority delivered first, FIFO within a level, priorities above the maximum capped to
 * it, and messages without a priority treated as priority 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodies, consumeCount, drain, expectCode, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

describe('x-max-priority validation', () => {
  it.each([1, 10, 255])('accepts x-max-priority %i', async (max) => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxPriority: max });
    expect(queue).toMatch(/^amq\.gen-/);
  });

  // RabbitMQ 3.x answers each with 406 "invalid arg 'x-max-priority'".
  it.each([
    ['above 255', 256],
    ['negative', -1],
    ['a string', 'ten'],
    ['a float', 2.5],
  ])('rejects x-max-priority %s with 406 PRECONDITION_FAILED', async (_what, value) => {
    const { ch } = await clients.open();
    await expectCode(ch.assertQueue('', { exclusive: true, arguments: { 'x-max-priority': value } }), 406);
  });

  it('rejects a redeclaration with another x-max-priority with 406', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('q-prio');
    await ch.assertQueue(name, { exclusive: true, maxPriority: 5 });
    await expectCode(ch.assertQueue(name, { exclusive: true, maxPriority: 6 }), 406);
    const ch2 = await clients.channel(conn);
    await expectCode(ch2.assertQueue(name, { exclusive: true }), 406);
  });
});

describe('priority ordering', () => {
  /** Publishes [label, priority] pairs with no consumer attached and waits for the confirms. */
  async function fill(queue: string, messages: ReadonlyArray<readonly [string, number | undefined]>) {
    const pub = await clients.confirmChannel();
    for (const [label, priority] of messages) {
      pub.sendToQueue(queue, Buffer.from(label), priority === undefined ? {} : { priority });
    }
    await pub.waitForConfirms();
  }

  const mixed = [
    ['none-1', undefined],
    ['p5-1', 5],
    ['p10-1', 10],
    ['p5-2', 5],
    ['p200-1', 200], // above the maximum: counts as 10
    ['p0-1', 0],
    ['p10-2', 10],
    ['p3-1', 3],
    ['none-2', undefined],
    ['p11-1', 11], // above the maximum: counts as 10
  ] as const;
  const expectedOrder = ['p10-1', 'p200-1', 'p10-2', 'p11-1', 'p5-1', 'p5-2', 'p3-1', 'none-1', 'p0-1', 'none-2'];

  it('gets the highest priority first, FIFO within a level, with over-maximum capped and none as 0 (basic.get)', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxPriority: 10 });
    await fill(queue, mixed);
    expect((await ch.checkQueue(queue)).messageCount).toBe(mixed.length);
    expect(bodies(await drain(ch, queue))).toEqual(expectedOrder);
  });

  it('delivers in the same order to a consumer that attaches after the messages were published', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxPriority: 10 });
    await fill(queue, mixed);
    const { messages } = await consumeCount(ch, queue, mixed.length, { noAck: true });
    expect(bodies(messages)).toEqual(expectedOrder);
    expect(messages.map((m) => m.properties.priority)).toEqual([10, 200, 10, 11, 5, 5, 3, undefined, 0, undefined]);
  });

  it('with x-max-priority 1, any positive priority outranks none', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxPriority: 1 });
    await fill(queue, [
      ['none', undefined],
      ['p1', 1],
      ['p0', 0],
      ['p9', 9],
    ]);
    expect(bodies(await drain(ch, queue))).toEqual(['p1', 'p9', 'none', 'p0']);
  });

  it('lets a later high-priority message overtake queued ones while a consumer is limited by prefetch', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true, maxPriority: 10 });
    await fill(queue, [
      ['low-1', 1],
      ['low-2', 1],
      ['low-3', 1],
    ]);
    const consumer = await clients.channel(conn);
    await consumer.prefetch(1);
    const received: string[] = [];
    let pending: import('amqplib').ConsumeMessage | null = null;
    let wake: (() => void) | null = null;
    await consumer.consume(queue, (m) => {
      if (m === null) return;
      received.push(m.content.toString());
      pending = m;
      wake?.();
    });
    const next = async () => {
      if (pending === null) await new Promise<void>((resolve) => (wake = resolve));
      const m = pending!;
      pending = null;
      wake = null;
      return m;
    };
    const first = await next();
    await fill(queue, [['high', 9]]);
    consumer.ack(first);
    for (let i = 0; i < 3; i++) consumer.ack(await next());
    expect(received).toEqual(['low-1', 'high', 'low-2', 'low-3']);
  });

  it('treats a queue without x-max-priority as plain FIFO whatever the message priorities', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await fill(queue, [
      ['a', 1],
      ['b', 9],
      ['c', undefined],
    ]);
    expect(bodies(await drain(ch, queue))).toEqual(['a', 'b', 'c']);
  });
});
